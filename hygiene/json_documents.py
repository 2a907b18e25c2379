"""Read a JSON file hygiene wrote earlier (a baseline, a JSON report) and check it against its shipped schema."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from hygiene.errors import HygieneError
from hygiene.user_files import read_user_text


@cache
def shipped_schema(name: str) -> dict[str, Any]:
    """A JSON Schema from ``hygiene/schemas/``, e.g. ``report.schema.json``."""
    from importlib.resources import files

    return json.loads(files("hygiene").joinpath("schemas", name).read_text(encoding="utf-8"))


def json_path(parts) -> str:
    """``["findings", 3, "code"]`` -> ``findings[3].code``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def read_checked_json(path: Path, display: str, schema_name: str, kind: str) -> Any:
    """The document at ``path``; a missing, unreadable, malformed or off-schema file is one :class:`HygieneError` line."""
    import jsonschema

    text = read_user_text(path, display)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HygieneError(f"{display}: not a {kind}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    validator = jsonschema.Draft202012Validator(shipped_schema(schema_name), format_checker=jsonschema.FormatChecker())
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        where = json_path(error.absolute_path) or "top level"
        raise HygieneError(f"{display}: not a {kind}: {where}: {error.message}")
    return document
