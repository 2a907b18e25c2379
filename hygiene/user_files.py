"""Read a file the user named: every way it can fail becomes one line naming the file."""

from __future__ import annotations

from pathlib import Path

from hygiene.errors import HygieneError


def read_user_text(path: Path, display: str, error: type[HygieneError] = HygieneError, encoding: str = "utf-8") -> str:
    """The text of ``path``; a missing or unreadable file raises ``error`` with ``display`` as the file's name."""
    try:
        return path.read_bytes().decode(encoding)
    except FileNotFoundError:
        raise error(f"{display}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{display}: cannot read: {exc}") from None
