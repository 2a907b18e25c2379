"""Files the user names, read and written safely.

Reading: every way a file can fail becomes one line naming it, and every
file a run reads is recorded as an input of the run (:func:`note_input`).
Writing: :func:`atomic_text_writer` refuses a target that is an input of
the run or that another writer of the run already claimed, and a report or
a baseline replaces its target only once it is complete, so a failed,
interrupted or killed run never leaves half a file (or a stray temporary
file) behind. A target that is not a regular file (a device, a FIFO) is
written directly; a symlink is written through, never replaced.

Part of the lowest layer but one: it may import only :mod:`hygiene.api`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import tempfile
import threading
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import attrs

from hygiene.api.errors import HygieneError

#: The most a configuration, a baseline or a report read whole may hold; a larger one is not what it claims to be.
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024


@attrs.define
class _NamedFile:
    display: str
    role: str


class RunFiles:
    """The files one run reads and writes: a writer refuses a target that is an input, or already another writer's.

    Files are told apart by what they are, not how they are named: a path
    is compared with symlinks resolved and, when it exists, by device and
    inode, so ``./deals.csv``, a symlink to it and a hard link all meet.
    """

    def __init__(self) -> None:
        self._inputs: dict[object, _NamedFile] = {}
        self._outputs: dict[object, _NamedFile] = {}

    @staticmethod
    def _keys(path: Path) -> list[object]:
        keys: list[object] = [os.path.realpath(path)]
        try:
            info = os.stat(path)
        except OSError:
            return keys
        keys.append((info.st_dev, info.st_ino))
        return keys

    def note_input(self, path: Path, display: str, role: str = "an input") -> None:
        for key in self._keys(path):
            self._inputs.setdefault(key, _NamedFile(display, role))

    def claim_output(self, path: Path, display: str, what: str, *, replaces: Path | None = None) -> None:
        """Record ``path`` as written by this run, or raise :class:`HygieneError` when it is an input or already claimed.

        ``replaces`` is the one input this writer exists to rewrite (``hygiene baseline --prune`` rewrites its baseline).
        """
        exempt = set(self._keys(replaces)) if replaces is not None else set()
        keys = self._keys(path)
        for key in keys:
            if key in exempt:
                continue
            if key in self._inputs:
                found = self._inputs[key]
                same = "" if found.display == display else f" ({found.display})"
                raise HygieneError(f"{display}: refusing to write {what} over {found.role}{same}: it is an input of this run")
            if key in self._outputs:
                found = self._outputs[key]
                raise HygieneError(f"{display}: {what} and {found.role} would both be written to this file; give each its own path")
        for key in keys:
            self._outputs[key] = _NamedFile(display, what)


_run = RunFiles()


def begin_run() -> RunFiles:
    """Forget the files of any earlier run in this process (a command starts a run)."""
    global _run
    _run = RunFiles()
    return _run


def note_input(path: Path, display: str, role: str = "an input") -> None:
    """Record ``path`` as read by the current run: no writer of the run may replace it."""
    _run.note_input(path, display, role)


def claim_output(path: Path, display: str, what: str, *, replaces: Path | None = None) -> None:
    """See :meth:`RunFiles.claim_output`; every writer of the project goes through it."""
    _run.claim_output(path, display, what, replaces=replaces)


def read_user_bytes(path: Path, display: str, error: type[HygieneError] = HygieneError, *, role: str = "an input", limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them; anything else raises ``error`` naming ``display``.

    A FIFO, a device or a directory is refused before it is opened, so a
    configuration named ``/dev/zero`` or a pipe neither hangs nor fills memory.
    """
    check_regular_input(path, display, error, role=role)
    try:
        with open(path, "rb") as stream:
            data = stream.read(limit + 1)
    except OSError as exc:
        raise error(f"{display}: cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise error(f"{display}: larger than {limit // (1024 * 1024)} MB; not a file of this kind")
    return data


def check_regular_input(path: Path, display: str, error: type[HygieneError] = HygieneError, *, role: str = "an input") -> None:
    """Refuse anything but a regular file (a FIFO, a device, a directory) before it is opened, and note it as read by this run.

    For readers that stream a file rather than taking its bytes at once (:func:`read_user_bytes`).
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error(f"{display}: no such file") from None
    except OSError as exc:
        raise error(f"{display}: cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{display}: is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{display}: not a regular file ({_file_kind(info.st_mode)}); give the path of a file")
    note_input(path, display, role)


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def decode_user_text(data: bytes, display: str, error: type[HygieneError] = HygieneError, encoding: str = "utf-8") -> str:
    """``data`` as text; bytes that are not ``encoding`` raise ``error`` naming the byte."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise error(f"{display}: cannot read: {exc}") from None


def read_user_text(path: Path, display: str, error: type[HygieneError] = HygieneError, encoding: str = "utf-8", *, role: str = "an input") -> str:
    """The text of ``path``; a missing, unreadable or not-regular file raises ``error`` with ``display`` as the file's name."""
    return decode_user_text(read_user_bytes(path, display, error, role=role), display, error, encoding)


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

    text = read_user_text(path, display, role=f"the {kind}")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HygieneError(f"{display}: not a {kind}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except (RecursionError, ValueError) as exc:
        # Nesting deeper than the parser's stack, or an integer longer than Python converts.
        raise HygieneError(f"{display}: not a {kind}: {json_value_problem(exc)}") from None
    validator = jsonschema.Draft202012Validator(shipped_schema(schema_name), format_checker=jsonschema.FormatChecker())
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        where = json_path(error.absolute_path) or "top level"
        raise HygieneError(f"{display}: not a {kind}: {where}: {error.message}")
    return document


def json_value_problem(exc: BaseException) -> str:
    """What :func:`json.loads` choked on besides syntax, as a phrase for a one-line error."""
    if isinstance(exc, RecursionError):
        return "nested too deeply (arrays or objects inside each other thousands of levels deep)"
    if "integer string conversion" in str(exc) or "digits" in str(exc):
        return "an integer with thousands of digits"
    return (str(exc).splitlines() or ["invalid value"])[0]


#: Temporary files of the project's writers: ``.NAME.hygiene-PID-RANDOM.tmp`` beside the target.
_TEMP_PATTERN = re.compile(r"^\.(?P<name>.+)\.hygiene-(?P<pid>\d+)-[^.]*\.tmp$")
_in_flight: set[str] = set()
_in_flight_lock = threading.Lock()
_previous_handlers: dict[int, Any] = {}
_CLEANUP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name))


@contextmanager
def atomic_text_writer(
    path: Path, *, newline: str | None = None, what: str = "the output", display: str | None = None, replaces: Path | None = None, claimed: bool = False
):
    """A text stream whose content replaces ``path`` only when the block succeeds (see :func:`atomic_writer`)."""
    with atomic_writer(path, binary=False, newline=newline, what=what, display=display, replaces=replaces, claimed=claimed) as stream:
        yield stream


@contextmanager
def atomic_writer(
    path: Path,
    *,
    binary: bool,
    newline: str | None = None,
    what: str = "the output",
    display: str | None = None,
    replaces: Path | None = None,
    claimed: bool = False,
):
    """A text (or, ``binary``, a bytes) stream whose content replaces ``path`` only when the block succeeds.

    ``path`` is first claimed for this run (see :meth:`RunFiles.claim_output`):
    an input of the run, or a path another writer already took, raises
    :class:`HygieneError` (``claimed``: the caller already claimed it, before
    doing the work whose result it writes). A symlink is written through: its target is
    replaced, the link stays. A path that exists but is not a regular file
    (``/dev/null``, a FIFO, a terminal) is written directly, as there is no
    file to replace. Write errors (a full disk) propagate as :class:`OSError`.
    """
    display = display or str(path)
    if not claimed:
        claim_output(path, display, what, replaces=replaces)
    target = Path(os.path.realpath(path))
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(21, "is a directory", str(path))
        with open(target, *_open_mode(binary, newline)) as stream:
            yield stream
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.hygiene-{os.getpid()}-", suffix=".tmp", dir=target.parent)
    _track(tmp)
    try:
        with os.fdopen(fd, *_open_mode(binary, newline)) as stream:
            # mkstemp makes the file private (0600); a report gets the mode of the file it replaces,
            # or the one any new file would get, so that others who could read it still can.
            os.chmod(tmp, _target_mode(target))
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    finally:
        _untrack(tmp)


def _open_mode(binary: bool, newline: str | None) -> tuple:
    """``open()``'s mode, buffering, encoding and newline arguments for a text or a binary stream."""
    return ("wb",) if binary else ("w", -1, "utf-8", None, newline)


def remove_stale_temp_files(target: Path) -> list[Path]:
    """Remove the temporary files a killed run of ours left beside ``target`` (those whose process is gone)."""
    removed = []
    try:
        names = os.listdir(target.parent)
    except OSError:
        return removed
    for name in names:
        match = _TEMP_PATTERN.match(name)
        if match is None or match["name"] != target.name or _process_alive(int(match["pid"])):
            continue
        try:
            os.unlink(target.parent / name)
            removed.append(target.parent / name)
        except OSError:
            pass
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or a pid we cannot judge: leave its file alone
    return True


def _track(tmp: str) -> None:
    with _in_flight_lock:
        first = not _in_flight
        _in_flight.add(tmp)
    if first and threading.current_thread() is threading.main_thread():
        for signum in _CLEANUP_SIGNALS:
            try:
                # A signal the run was started ignoring (a background job's SIGINT, nohup's SIGHUP) stays ignored:
                # catching it would remove a report the run then goes on writing.
                if signal.getsignal(signum) == signal.SIG_IGN:
                    continue
                _previous_handlers[signum] = signal.signal(signum, _remove_in_flight_and_resignal)
            except (ValueError, OSError):
                pass


def _untrack(tmp: str) -> None:
    with _in_flight_lock:
        _in_flight.discard(tmp)
        last = not _in_flight
    if last and threading.current_thread() is threading.main_thread():
        while _previous_handlers:
            signum, handler = _previous_handlers.popitem()
            signal.signal(signum, handler)


def _remove_in_flight_and_resignal(signum: int, frame) -> None:
    """A signal during a write: remove the temporary files, then let the signal do what it did before."""
    # No lock: the handler runs in the main thread, which may be holding it (inside _track) when the signal comes.
    for tmp in tuple(_in_flight):
        try:
            os.unlink(tmp)
        except OSError:
            pass
    previous = _previous_handlers.get(signum, signal.SIG_DFL)
    if callable(previous):
        previous(signum, frame)  # e.g. SIGINT's KeyboardInterrupt
        return
    # The conventional ending: die of the signal, so the shell sees 128 + its number.
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _target_mode(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
