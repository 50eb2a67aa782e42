"""A Jinja sandbox with bounded CPU, memory and output, for templates written by workspace admins.

jinja2's ``ImmutableSandboxedEnvironment`` keeps templates away from Python's internals but
bounds nothing: arithmetic is even folded while the template *compiles*, so ``{{ 9**9**9 }}``
holds a process for minutes and ``{{ 'x' * 10**9 }}`` allocates a gigabyte. Here:

- **Operators** ``**``, ``*``, ``+`` and ``%`` are intercepted (Jinja then cannot fold them
  at compile time): integers stay under ``MAX_INT_BITS``, strings and lists under
  ``MAX_VALUE_CHARS``/``MAX_VALUE_ITEMS``, and ``%`` formats numbers only (a ``%`` width is
  a way to allocate). ``~`` concatenation is bounded the same way.
- **Methods and filters** that take a size (``center``, ``indent``, ``batch``, ``join``,
  ``replace``, …) check it before allocating; string methods are limited to a reading list
  (no ``format``, ``ljust``, ``zfill``, ``expandtabs``…).
- **Time**: every loop step, call, attribute lookup, operator and output chunk counts against
  a budget (``budget()``): at most ``MAX_STEPS`` loop iterations and ``seconds`` of wall time
  per render, checked cooperatively, so nothing here needs signals or threads.

Anything over a limit raises :class:`TemplateLimitError` with a message for the template's
author; the caller turns it into a 400 (save, preview) or a failed notification (delivery).
"""

from __future__ import annotations

import contextlib
import contextvars
import operator
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from numbers import Number

from jinja2 import nodes
from jinja2.filters import FILTERS, do_batch, do_center, do_indent, do_slice, do_wordwrap, pass_context
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_INT_BITS = 4_096  # ~1,200 decimal digits
MAX_VALUE_CHARS = 100_000
MAX_VALUE_ITEMS = 10_000
MAX_WIDTH = 1_000  # center/indent/wordwrap widths and batch/slice counts
MAX_STEPS = 100_000
MAX_RANGE = 1_000

# String methods a template may call: they read or return at most the string's own size.
STR_METHODS = frozenset(
    {
        "capitalize",
        "casefold",
        "count",
        "endswith",
        "find",
        "isalnum",
        "isalpha",
        "isdecimal",
        "isdigit",
        "islower",
        "isnumeric",
        "isspace",
        "istitle",
        "isupper",
        "lower",
        "lstrip",
        "partition",
        "removeprefix",
        "removesuffix",
        "rfind",
        "rpartition",
        "rsplit",
        "rstrip",
        "split",
        "splitlines",
        "startswith",
        "strip",
        "swapcase",
        "title",
        "upper",
    }
)


class TemplateLimitError(Exception):
    """A template went over one of the sandbox's limits (size, steps or time)."""


@dataclass
class Budget:
    seconds: float
    deadline: float = field(init=False)
    steps: int = 0

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.seconds

    def step(self, count: int = 1) -> None:
        self.steps += count
        if self.steps > MAX_STEPS:
            raise TemplateLimitError(f"The template takes more than {MAX_STEPS:,} loop steps.")
        if time.monotonic() > self.deadline:
            raise TemplateLimitError(f"The template takes longer than {self.seconds:g} s to render.")


_budget: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("template_budget", default=None)


@contextlib.contextmanager
def budget(seconds: float) -> Iterator[Budget]:
    """Everything rendered inside shares one step and time budget."""
    current = Budget(seconds=seconds)
    reset = _budget.set(current)
    try:
        yield current
    finally:
        _budget.reset(reset)


def _step(count: int = 1) -> None:
    current = _budget.get()
    if current is not None:
        current.step(count)


# --- sizes ------------------------------------------------------------------------------------


def _check_int(value) -> None:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise TemplateLimitError("The template computes a number that is too large.")


def _check_size(value) -> None:
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        raise TemplateLimitError(f"The template builds a text longer than {MAX_VALUE_CHARS:,} characters.")
    if isinstance(value, (list, tuple)) and len(value) > MAX_VALUE_ITEMS:
        raise TemplateLimitError(f"The template builds a list longer than {MAX_VALUE_ITEMS:,} items.")


def _sized(value) -> int:
    return len(value) if isinstance(value, (str, list, tuple)) else 0


def _int_bits(value) -> int:
    return max(1, abs(value).bit_length()) if isinstance(value, int) else 0


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _power(left, right):
    if _is_int(left) and _is_int(right) and right > 0 and _int_bits(left) * right > MAX_INT_BITS:
        raise TemplateLimitError("The template computes a number that is too large (a power).")
    if isinstance(right, Number) and not _is_int(right) and _is_int(left):
        _check_int(left)
    return operator.pow(left, right)


def _multiply(left, right):
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, (str, list, tuple)) and _is_int(count):
            limit = MAX_VALUE_CHARS if isinstance(sequence, str) else MAX_VALUE_ITEMS
            if len(sequence) * max(count, 0) > limit:
                raise TemplateLimitError("The template repeats a text or list too many times.")
    if _is_int(left) and _is_int(right) and _int_bits(left) + _int_bits(right) > MAX_INT_BITS:
        raise TemplateLimitError("The template computes a number that is too large (a product).")
    return operator.mul(left, right)


def _add(left, right):
    if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
        limit = MAX_VALUE_CHARS if isinstance(left, str) else MAX_VALUE_ITEMS
        if len(left) + len(right) > limit:
            raise TemplateLimitError("The template builds a text or list that is too long.")
    return operator.add(left, right)


def _modulo(left, right):
    if isinstance(left, str):
        raise TemplateLimitError("'%' formatting is not available in message templates; use ~ to join text.")
    return operator.mod(left, right)


# --- filters that take a size -----------------------------------------------------------------


def _width(value, what: str) -> None:
    if _is_int(value) and abs(value) > MAX_WIDTH:
        raise TemplateLimitError(f"The template asks for {what} over {MAX_WIDTH:,}.")


def _center(value, width=80):
    _width(width, "a width")
    return do_center(value, width)


def _indent(value, width=4, first=False, blank=False):
    if isinstance(width, str) and len(width) > 100:
        raise TemplateLimitError("The template indents with a text that is too long.")
    _width(width, "an indent")
    return do_indent(value, width, first, blank)


def _wordwrap(environment, value, width=79, break_long_words=True, wrapstring=None, break_on_hyphens=True):
    _width(width, "a width")
    if wrapstring is not None and len(str(wrapstring)) > 10:
        raise TemplateLimitError("The template wraps lines with a text that is too long.")
    return do_wordwrap(environment, value, width, break_long_words, wrapstring, break_on_hyphens)


_wordwrap.jinja_pass_arg = FILTERS["wordwrap"].jinja_pass_arg  # type: ignore[attr-defined]


def _batch(value, linecount, fill_with=None):
    _width(linecount, "a batch size")
    return do_batch(value, linecount, fill_with)


def _slice(value, slices, fill_with=None):
    _width(slices, "a number of slices")
    return do_slice(value, slices, fill_with)


def _join(eval_ctx, value, d="", attribute=None):
    items = list(value)
    _check_size(items)
    separator = str(d)
    total = sum(len(str(item)) for item in items) + len(separator) * max(len(items) - 1, 0)
    if total > MAX_VALUE_CHARS:
        raise TemplateLimitError(f"The template joins a text longer than {MAX_VALUE_CHARS:,} characters.")
    return FILTERS["join"](eval_ctx, items, d, attribute)


_join.jinja_pass_arg = FILTERS["join"].jinja_pass_arg  # type: ignore[attr-defined]


def _replace(eval_ctx, s, old, new, count=None):
    text, old, new = str(s), str(old), str(new)
    found = text.count(old) if count is None else min(text.count(old), max(count, 0))
    if len(text) + found * max(len(new) - len(old), 0) > MAX_VALUE_CHARS:
        raise TemplateLimitError(f"The template replaces into a text longer than {MAX_VALUE_CHARS:,} characters.")
    return FILTERS["replace"](eval_ctx, s, old, new, count)


_replace.jinja_pass_arg = FILTERS["replace"].jinja_pass_arg  # type: ignore[attr-defined]


def _refused(name: str):
    def refuse(*args, **kwargs):
        raise TemplateLimitError(f"The '{name}' filter is not available in message templates.")

    return refuse


@pass_context
def _loop_budget(context, iterable) -> Iterable:
    """Wrapped around every ``{% for %}``'s iterable: each step counts against the budget."""
    for item in iterable:
        _step()
        yield item


def _concat(values) -> str:
    """``a ~ b ~ …`` with the total size checked before the text is built."""
    parts = [str(value) for value in values]
    if sum(map(len, parts)) > MAX_VALUE_CHARS:
        raise TemplateLimitError(f"The template builds a text longer than {MAX_VALUE_CHARS:,} characters.")
    _step(0)
    return "".join(parts)


def short_range(*args):
    values = range(*args)
    if len(values) > MAX_RANGE:
        raise TemplateLimitError(f"range() is limited to {MAX_RANGE:,} items in templates.")
    return values


class BoundedSandboxedEnvironment(ImmutableSandboxedEnvironment):
    """``ImmutableSandboxedEnvironment`` with the limits described in the module docstring."""

    intercepted_binops = frozenset({"**", "*", "+", "%"})

    def __init__(self, **options):
        super().__init__(**options)
        self.binop_table.update({"**": _power, "*": _multiply, "+": _add, "%": _modulo})
        self.globals.clear()
        self.globals["range"] = short_range
        self.filters.update(
            {
                "center": _center,
                "indent": _indent,
                "wordwrap": _wordwrap,
                "batch": _batch,
                "slice": _slice,
                "join": _join,
                "replace": _replace,
                "format": _refused("format"),
                "_loop_budget": _loop_budget,
                "_concat": _concat,
            }
        )

    def call_binop(self, context, operator, left, right):
        _step(0)
        result = self.binop_table[operator](left, right)
        _check_size(result)
        return result

    def call(__self, __context, __obj, *args, **kwargs):
        _step(0)
        for value in (*args, *kwargs.values()):
            _check_int(value)
        try:
            result = super().call(__context, __obj, *args, **kwargs)
        except RecursionError as exc:
            raise TemplateLimitError("The template calls itself too deeply.") from exc
        _check_size(result)
        return result

    def getattr(self, obj, attribute):
        _step(0)
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        _step(0)
        return super().getitem(obj, argument)

    def is_safe_attribute(self, obj, attr, value) -> bool:
        if isinstance(obj, str) and callable(value) and attr not in STR_METHODS:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def wrap_str_format(self, value):
        # ``str.format``/``format_map`` are refused by ``is_safe_attribute`` (a width allocates);
        # the base class would hand out a sandboxed formatter before asking it.
        return None

    def _generate(self, source, name, filename, defer_init=False):
        for loop in source.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, "_loop_budget", [], [], None, None, lineno=loop.lineno)
        for concat in list(source.find_all(nodes.Concat)):
            replacement = nodes.Filter(
                nodes.List(concat.nodes, lineno=concat.lineno), "_concat", [], [], None, None, lineno=concat.lineno
            )
            _replace_node(source, concat, replacement)
        return super()._generate(source, name, filename, defer_init=defer_init)


def _replace_node(tree: nodes.Node, old: nodes.Node, new: nodes.Node) -> None:
    for node in tree.find_all(nodes.Node):
        for name in node.fields:
            value = getattr(node, name, None)
            if value is old:
                setattr(node, name, new)
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    if item is old:
                        value[index] = new
