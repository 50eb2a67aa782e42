"""The API's JSON parser: DRF's, with the two ways a body could still crash a view turned into 400s."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_JSON_DEPTH = 64


def _check(value, depth: int = 0) -> None:
    """Refuses nesting deeper than ``MAX_JSON_DEPTH`` and text that is not valid Unicode."""
    if depth > MAX_JSON_DEPTH:
        raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ParseError(
                "JSON parse error - a string holds a lone UTF-16 surrogate (e.g. \\ud800), which is not valid Unicode."
            ) from exc
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key, depth + 1)
            _check(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check(item, depth + 1)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser; a body nested too deeply (Python's decoder recurses) or holding a lone
    surrogate (valid JSON, invalid Unicode: it fails later where text is encoded) is a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from exc
        _check(data)
        return data
