"""Django's translation tags in the Jinja message templates, read from Django's catalogues.

The shipped message templates (``templates/messages/``) are Jinja, rendered in the bounded
sandbox, but their strings live in the same catalogues as the pages (``locale/<lang>``): this
extension gives Jinja Django's own syntax, so ``manage.py makemessages`` extracts them with the
pages' strings and the unmarked-string check reads them the same way::

    {% translate "Hello" %}
    {% blocktranslate trimmed with name=person.name %}Hello {{ name }}{% endblocktranslate %}
    {% blocktranslate count years=person.years %}{{ years }} year{% plural %}{{ years }} years{% endblocktranslate %}

Inside ``blocktranslate`` only plain ``{{ name }}`` placeholders are allowed (as in Django);
the message id is Django's (``Hello %(name)s``). The text comes from ``gettext``/``ngettext``
in the active language (``translation.override`` around the render) and the placeholders are
filled with ``%`` formatting of the catalogue's own text — never of anything a template's data
brings — through the sandbox's ``call``, so its size limits apply to the result.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext, ngettext, trim_whitespace
from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.ext import Extension

# Our tags as Django's extractor reads them: the environment's trim_blocks/lstrip_blocks must not
# eat the text around them ("+" turns both off for one tag), or a message id would differ from
# the catalogue's and text would run together.
_OUR_TAGS = re.compile(r"\{%([-+]?)(\s*(?:(?:end)?blocktranslate|translate|plural)\b.*?)([-+]?)%\}", re.S)


def _keep_whitespace(match: re.Match) -> str:
    before, inside, after = match.groups()
    return "{%" + (before or "+") + inside + (after or "+") + "%}"


class DjangoTranslationExtension(Extension):
    tags = {"translate", "blocktranslate"}

    def preprocess(self, source, name, filename=None):
        return _OUR_TAGS.sub(_keep_whitespace, source)

    def parse(self, parser):
        token = next(parser.stream)
        if token.value == "translate":
            message = parser.stream.expect("string").value
            return nodes.Output([self.call_method("_translate", [nodes.Const(message)])], lineno=token.lineno)
        return self._parse_block(parser, token.lineno)

    def _parse_block(self, parser, lineno: int):
        variables: dict[str, nodes.Expr] = {}
        counter: str | None = None
        trimmed = False
        while parser.stream.current.type != "block_end":
            option = parser.stream.expect("name").value
            if option == "trimmed":
                trimmed = True
            elif option in ("with", "count"):
                while parser.stream.current.type == "name" and parser.stream.look().type == "assign":
                    name = next(parser.stream).value
                    next(parser.stream)
                    variables[name] = parser.parse_expression()
                    if option == "count":
                        counter = name
            else:
                raise TemplateSyntaxError(f"blocktranslate does not take {option!r}", lineno)
        parser.stream.expect("block_end")
        singular, names = self._text(parser, allow_plural=counter is not None)
        plural = None
        if parser.stream.current.test("name:plural"):
            next(parser.stream)
            parser.stream.expect("block_end")
            plural, plural_names = self._text(parser, allow_plural=False)
            names |= plural_names
        next(parser.stream)  # endblocktranslate (the parser reads the tag's end)
        if counter is not None and plural is None:
            raise TemplateSyntaxError("blocktranslate with count needs a {% plural %} part", lineno)
        unknown = names - set(variables)
        if unknown:
            raise TemplateSyntaxError(f"blocktranslate: give {', '.join(sorted(unknown))} with 'with'", lineno)
        if trimmed:
            singular = trim_whitespace(singular)
            plural = trim_whitespace(plural) if plural is not None else None
        keywords = [nodes.Keyword(name, value) for name, value in variables.items()]
        if plural is None:
            call = self.call_method("_blocktranslate", [nodes.Const(singular)], keywords)
        else:
            arguments = [nodes.Const(singular), nodes.Const(plural), nodes.Const(counter)]
            call = self.call_method("_blocktranslate_plural", arguments, keywords)
        return nodes.Output([call], lineno=lineno)

    @staticmethod
    def _text(parser, *, allow_plural: bool) -> tuple[str, set[str]]:
        """The block's text up to ``plural``/``endblocktranslate``, placeholders as ``%(name)s``."""
        parts: list[str] = []
        names: set[str] = set()
        stream = parser.stream
        while True:
            if stream.current.type == "data":
                parts.append(stream.current.value.replace("%", "%%"))
                next(stream)
            elif stream.current.type == "variable_begin":
                next(stream)
                name = stream.expect("name").value
                stream.expect("variable_end")
                names.add(name)
                parts.append(f"%({name})s")
            elif stream.current.type == "block_begin":
                next(stream)
                ends = stream.current.test("name:endblocktranslate")
                if ends or (allow_plural and stream.current.test("name:plural")):
                    return "".join(parts), names
                raise TemplateSyntaxError(
                    "only {{ name }} placeholders may stand in a blocktranslate", stream.current.lineno
                )
            elif stream.eos:
                raise TemplateSyntaxError("blocktranslate is not closed", parser.stream.current.lineno)
            else:
                raise TemplateSyntaxError("unexpected text in blocktranslate", stream.current.lineno)

    @staticmethod
    def _translate(message: str) -> str:
        return gettext(message)

    @staticmethod
    def _blocktranslate(singular: str, **values) -> str:
        return gettext(singular) % _texts(values)

    @staticmethod
    def _blocktranslate_plural(singular: str, plural: str, counter: str, **values) -> str:
        count = values[counter]
        number = count if isinstance(count, int) and not isinstance(count, bool) else 0
        return ngettext(singular, plural, number) % _texts(values)


def _texts(values: dict) -> dict[str, str]:
    """Placeholders as text; empty for what a template left undefined."""
    return {name: "" if value is None or _undefined(value) else str(value) for name, value in values.items()}


def _undefined(value) -> bool:
    from jinja2 import Undefined

    return isinstance(value, Undefined)
