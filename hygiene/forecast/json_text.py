"""The forecast document as JSON text: what ``json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)`` writes, faster.

The standard library encodes with an indent in pure Python, one generator
step per value; a forecast of a million deals (plan B lists for every
owner) has about a million values, which took most of a second. This
writes the same text with one recursive function whose scalars go through
the C encoders the standard library uses itself (``encode_basestring``
for strings, ``float.__repr__``), so the output is byte for byte the
same; a property test holds it to ``json.dumps``.
"""

from __future__ import annotations

import json.encoder
from typing import Any

_escape = json.encoder.encode_basestring  # the C version where there is one, as json.dumps uses with ensure_ascii=False
_INFINITY = float("inf")


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)


def _key(key: Any) -> str:
    """A dictionary key as json.dumps turns it into a string (str, number, bool or None)."""
    if isinstance(key, str):
        return key
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, float):
        return _float(key)
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _scalar(value: Any) -> str | None:
    """The JSON of a string, number, bool or None; None for a container."""
    if isinstance(value, str):
        return _escape(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float(value)
    return None


#: The writer of each exact scalar type, looked up before the isinstance checks (subclasses, containers).
_BY_TYPE = {
    str: _escape,
    int: int.__repr__,
    float: _float,
    bool: lambda value: "true" if value else "false",
    type(None): lambda value: "null",
}


def _write(value: Any, indent: str, parts: list[str]) -> None:
    writer = _BY_TYPE.get(type(value))
    if writer is not None:
        parts.append(writer(value))
        return
    text = _scalar(value)
    if text is not None:
        parts.append(text)
        return
    inner = indent + "  "
    if isinstance(value, dict):
        if not value:
            parts.append("{}")
            return
        # json.dumps sorts the keys as given, then turns them into strings.
        opening = "{\n" + inner
        for key, item in sorted(value.items()):
            parts.append(opening)
            parts.append(_escape(key if type(key) is str else _key(key)))
            parts.append(": ")
            writer = _BY_TYPE.get(type(item))
            if writer is not None:
                parts.append(writer(item))
            else:
                _write(item, inner, parts)
            opening = ",\n" + inner
        parts.append("\n" + indent + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            parts.append("[]")
            return
        opening = "[\n" + inner
        for item in value:
            parts.append(opening)
            writer = _BY_TYPE.get(type(item))
            if writer is not None:
                parts.append(writer(item))
            else:
                _write(item, inner, parts)
            opening = ",\n" + inner
        parts.append("\n" + indent + "]")
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def document_json(document: Any) -> str:
    """``document`` as JSON with sorted keys and a two-space indent, non-ASCII text as is, and a final newline."""
    parts: list[str] = []
    _write(document, "", parts)
    parts.append("\n")
    return "".join(parts)
