"""Files the user names, read and written safely.

Reading: every way a file can fail becomes one line naming it. Writing:
a report or a baseline replaces its target only once it is complete, so a
failed run never leaves half a file behind.

Part of the lowest layer but one: it may import only :mod:`hygiene.api`.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from hygiene.api.errors import HygieneError


def read_user_text(path: Path, display: str, error: type[HygieneError] = HygieneError, encoding: str = "utf-8") -> str:
    """The text of ``path``; a missing or unreadable file raises ``error`` with ``display`` as the file's name."""
    try:
        return path.read_bytes().decode(encoding)
    except FileNotFoundError:
        raise error(f"{display}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{display}: cannot read: {exc}") from None


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


@contextmanager
def atomic_text_writer(path: Path, *, newline: str | None = None):
    """A text stream whose content replaces ``path`` only when the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as stream:
            # mkstemp makes the file private (0600); a report gets the mode of the file it replaces,
            # or the one any new file would get, so that others who could read it still can.
            os.chmod(tmp, _target_mode(path))
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _target_mode(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
