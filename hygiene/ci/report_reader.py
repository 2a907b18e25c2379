"""Read a JSON report of any size: its findings as a polars table, built a slice at a time.

A report of a million deals is hundreds of megabytes, most of it the
``findings`` array (and ``deal_health``). :func:`read_report` walks the
document's top level itself: every other value is decoded whole (and
together they must stay under ``limit``, as a configuration file must),
while the elements of those two arrays are decoded one at a time and
gathered into columns ``SLICE_FINDINGS`` at a time, so no Python object
per finding outlives its slice. The header is checked against the shipped
report schema; each finding is checked with the same rules, cheaply in
bulk, and a slice that fails is checked again by the schema itself, so
that the one-line error names the finding and the schema's reason.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import attrs
import polars as pl

from hygiene.api.errors import HygieneError
from hygiene.files import MAX_DOCUMENT_BYTES, check_regular_input, json_path, json_value_problem, shipped_schema

REPORT_SCHEMA = "report.schema.json"
KIND = "hygiene JSON report"
#: Findings decoded and checked together before they become a slice of the table.
SLICE_FINDINGS = 50_000
#: The report's arrays that are read an element at a time (whatever their size, they do not count against ``limit``).
STREAMED_ARRAYS = ("findings", "deal_health")
FINDING_KEYS = ("code", "rule", "severity", "deal_id", "deal_name", "owner", "message", "details", "row", "fingerprint", "baseline_status")
#: The finding's text fields, and ``details`` as its JSON text (the keys in the report's order).
FINDING_SCHEMA = {
    "index": pl.Int64,
    **{key: pl.String for key in FINDING_KEYS if key != "row"},
    "row": pl.Int64,
}
_READ_CHARS = 1 << 20
_WHITESPACE = " \t\n\r"
_NOT_WHITESPACE = re.compile(r"[^ \t\n\r]")


@attrs.define(frozen=True, kw_only=True)
class ReadReport:
    """A JSON report: everything but its arrays of findings and deal health (``header``), and its findings as a table in report order."""

    file: str
    header: dict[str, Any]
    findings: pl.DataFrame

    @property
    def about(self) -> dict[str, Any]:
        return {"file": self.file, "source": self.header["source"], "as_of": self.header["as_of"]}

    @property
    def counters(self) -> dict[str, list[str]]:
        return self.header.get("counters", {})


def read_report(path: Path, display: str, *, limit: int = MAX_DOCUMENT_BYTES) -> ReadReport:
    """The report at ``path``; a missing, malformed, truncated or off-schema file is one :class:`HygieneError` line.

    ``limit`` bounds what is held as Python objects: the header, and any one finding.
    """
    check_regular_input(path, display, role=f"the {KIND}")
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = _TopLevel(handle, display, limit)
            header, findings = reader.read()
    except UnicodeDecodeError as exc:
        raise HygieneError(f"{display}: cannot read: {exc}") from None
    except OSError as exc:
        raise HygieneError(f"{display}: cannot read: {exc.strerror or exc}") from None
    return ReadReport(file=display, header=header, findings=findings)


class _Truncated(Exception):
    """The text ends inside a value."""


def _validator():
    import jsonschema

    return jsonschema.Draft202012Validator(shipped_schema(REPORT_SCHEMA), format_checker=jsonschema.FormatChecker())


def _schema_error(display: str, document: Any) -> None:
    import jsonschema

    error = jsonschema.exceptions.best_match(_validator().iter_errors(document))
    if error is not None:
        where = json_path(error.absolute_path) or "top level"
        raise HygieneError(f"{display}: not a {KIND}: {where}: {error.message}")


class _TopLevel:
    """The text of one report, read in chunks, decoded value by value."""

    def __init__(self, handle, display: str, limit: int) -> None:
        self.handle = handle
        self.display = display
        self.limit = limit
        self.decoder = json.JSONDecoder()
        self.text = ""
        self.pos = 0
        self.eof = False
        # Where self.text starts in the file, for error positions.
        self.line = 1
        self.column = 1
        self.header_chars = 0

    # -- the text ------------------------------------------------------------------------------

    def _more(self, at_least: int = 0) -> bool:
        if self.eof:
            return False
        chunk = self.handle.read(max(at_least, _READ_CHARS))
        if not chunk:
            # The text stays as it was: positions in it (of an error) remain true.
            self.eof = True
            return False
        if self.pos > _READ_CHARS:
            dropped = self.text[: self.pos]
            newlines = dropped.count("\n")
            if newlines:
                self.line += newlines
                self.column = len(dropped) - dropped.rfind("\n")
            else:
                self.column += len(dropped)
            self.text, self.pos = self.text[self.pos :], 0
        self.text += chunk
        return True

    def _where(self, pos: int) -> str:
        newlines = self.text.count("\n", 0, pos)
        if newlines:
            return f"line {self.line + newlines} column {pos - self.text.rfind(chr(10), 0, pos)}"
        return f"line {self.line} column {self.column + pos}"

    def _fail(self, pos: int, problem: str) -> HygieneError:
        near = self.text[pos : pos + 30].split("\n")[0]
        return HygieneError(f"{self.display}: not a {KIND}: invalid JSON at {self._where(pos)}: {problem}" + (f" (at {near!r})" if near else ""))

    def _skip(self) -> str:
        """The next character that is not whitespace ('' at the end of the file), not consumed."""
        while True:
            found = _NOT_WHITESPACE.search(self.text, self.pos)
            if found is not None:
                self.pos = found.start()
                return self.text[self.pos]
            self.pos = len(self.text)
            if not self._more():
                return ""

    def _expect(self, char: str, problem: str) -> None:
        if self._skip() != char:
            raise self._fail(self.pos, problem)
        self.pos += 1

    def _value(self, budget: int) -> Any:
        """The JSON value at the cursor, reading more text until it is whole (at most ``budget`` characters)."""
        self._skip()
        want = _READ_CHARS
        while True:
            try:
                value, end = self.decoder.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                # Possibly cut off at the end of what has been read so far: read more and decode again.
                if len(self.text) - self.pos > budget:
                    raise self._too_large() from None
                if self._more(want):
                    want *= 2
                    continue
                if exc.pos >= len(self.text.rstrip(_WHITESPACE)) or exc.msg.startswith("Unterminated string"):
                    raise _Truncated() from None
                raise self._fail(exc.pos, exc.msg) from None
            except (RecursionError, ValueError) as exc:
                raise HygieneError(f"{self.display}: not a {KIND}: {json_value_problem(exc)}") from None
            if end == len(self.text) and not self.eof and self.text[end - 1] not in '}]"':
                # A number (or a literal) that may go on in the next chunk.
                if self._more(want):
                    continue
            if end - self.pos > budget:
                raise self._too_large()
            self.pos = end
            return value

    def _too_large(self) -> HygieneError:
        return HygieneError(f"{self.display}: not a {KIND}: a value at {self._where(self.pos)} is larger than {self.limit // (1024 * 1024)} MB")

    # -- the document --------------------------------------------------------------------------

    def read(self) -> tuple[dict[str, Any], pl.DataFrame]:
        try:
            return self._document()
        except _Truncated:
            raise self._ends("inside a value of the report") from None

    def _document(self) -> tuple[dict[str, Any], pl.DataFrame]:
        if self._skip() != "{":
            return self._not_an_object()
        self.pos += 1
        header: dict[str, Any] = {}
        findings = pl.DataFrame(schema=FINDING_SCHEMA)
        first = True
        while True:
            char = self._skip()
            if char == "}" and first:
                self.pos += 1
                break
            if char != '"':
                raise self._fail(self.pos, "Expecting property name enclosed in double quotes")
            key = self._value(self.limit)
            self._expect(":", "Expecting ':' delimiter")
            start = self.pos
            if key in STREAMED_ARRAYS and self._skip() == "[":
                rows = self._array(key)
                if key == "findings":
                    findings = rows
                header[key] = []
            else:
                header[key] = self._value(self.limit - self.header_chars)
                self.header_chars += self.pos - start
            first = False
            char = self._skip()
            if char == ",":
                self.pos += 1
                continue
            if char == "}":
                self.pos += 1
                break
            raise self._fail(self.pos, "Expecting ',' delimiter")
        if self._skip() != "":
            raise self._fail(self.pos, "Extra data")
        _schema_error(self.display, header)
        return header, findings

    def _ends(self, where: str) -> HygieneError:
        return HygieneError(f"{self.display}: not a {KIND}: the file ends {where}, at {self._where(len(self.text))}: truncated")

    def _not_an_object(self) -> tuple[dict[str, Any], pl.DataFrame]:
        """Not a report at all: decoded whole (within the limit) for the reason the schema or the parser gives."""
        value = self._value(self.limit)
        if self._skip() != "":
            raise self._fail(self.pos, "Extra data")
        _schema_error(self.display, value)
        raise HygieneError(f"{self.display}: not a {KIND}: top level: not an object")

    def _array(self, key: str) -> pl.DataFrame:
        """The elements of the array ``key`` at the cursor: findings as a table, deal health checked and dropped."""
        self.pos += 1  # the [
        slices: list[pl.DataFrame] = []
        batch: list[Any] = []
        count = 0
        if self._skip() == "]":
            self.pos += 1
            return pl.DataFrame(schema=FINDING_SCHEMA)
        while True:
            if self._skip() == "":
                raise self._ends(f"after {key}[{count - 1}]" if count else f"inside {key}")
            try:
                batch.append(self._value(self.limit))
            except _Truncated:
                raise self._ends(f"inside {key}[{count}]") from None
            count += 1
            char = self._skip()
            if char == ",":
                self.pos += 1
            elif char == "]":
                self.pos += 1
            elif char == "":
                raise self._ends(f"after {key}[{count - 1}]")
            else:
                raise self._fail(self.pos, "Expecting ',' delimiter")
            if len(batch) == SLICE_FINDINGS or char == "]":
                first = count - len(batch)
                if key == "findings":
                    slices.append(_finding_slice(self.display, batch, first))
                else:
                    _check_deal_health(self.display, batch, first)
                batch = []
            if char == "]":
                break
        return pl.concat(slices, rechunk=True) if key == "findings" else pl.DataFrame(schema=FINDING_SCHEMA)


_FINDING_KEY_SET = frozenset(FINDING_KEYS)
_SEVERITIES = frozenset(("error", "warning", "info"))
_STATUSES = frozenset(("new", "known"))
_DEAL_HEALTH_KEYS = frozenset(("deal_id", "owner", "team", "amount", "findings", "health"))


def _finding_slice(display: str, batch: list[Any], first: int) -> pl.DataFrame:
    """``batch`` (findings ``first`` onwards) as table rows, once each is known to be what the schema allows."""
    if not all(_plausible(finding) for finding in batch):
        _check_each(display, "findings", batch, first)
    columns: dict[str, list[Any]] = {key: [finding[key] for finding in batch] for key in FINDING_KEYS if key != "details"}
    # The report's key order is kept: a paired finding whose details are the same text needs no closer look.
    columns["details"] = [json.dumps(finding["details"], ensure_ascii=False, separators=(",", ":")) for finding in batch]
    columns["row"] = [None if row is None else int(row) for row in columns["row"]]
    try:
        table = pl.DataFrame({"index": range(first, first + len(batch)), **columns}, schema=FINDING_SCHEMA, strict=True)
    except (TypeError, ValueError, pl.exceptions.PolarsError) as exc:
        _check_each(display, "findings", batch, first)
        reason = (str(exc).strip().splitlines() or ["unreadable"])[0]
        raise HygieneError(f"{display}: not a {KIND}: findings[{first}] to findings[{first + len(batch) - 1}]: {reason}") from None
    fingerprint_ok = pl.col("fingerprint").str.contains(r"^[0-9a-f]{20}$")
    if not table.select(fingerprint_ok.all() & (pl.col("code").str.len_chars() > 0).all() & (pl.col("rule").str.len_chars() > 0).all()).item():
        _check_each(display, "findings", batch, first)
    return table


def _plausible(finding: Any) -> bool:
    """What the schema requires of a finding beyond its text fields being strings (which the table's dtype checks)."""
    return (
        type(finding) is dict
        and finding.keys() == _FINDING_KEY_SET
        and finding["severity"] in _SEVERITIES
        and type(finding["details"]) is dict
        and (finding["baseline_status"] is None or finding["baseline_status"] in _STATUSES)
        and (finding["row"] is None or (type(finding["row"]) is int and finding["row"] >= 1))
    )


def _check_deal_health(display: str, batch: list[Any], first: int) -> None:
    if not all(_plausible_health(entry) for entry in batch):
        _check_each(display, "deal_health", batch, first)


def _plausible_health(entry: Any) -> bool:
    return (
        type(entry) is dict
        and entry.keys() == _DEAL_HEALTH_KEYS
        and type(entry["deal_id"]) is str
        and all(entry[key] is None or type(entry[key]) is str for key in ("owner", "team"))
        and (entry["amount"] is None or type(entry["amount"]) in (int, float))
        and type(entry["findings"]) is int
        and entry["findings"] >= 1
        and type(entry["health"]) is int
        and 0 <= entry["health"] <= 99
    )


def _check_each(display: str, key: str, batch: list[Any], first: int) -> None:
    """The schema's verdict on each element of ``batch``: the first that fails is the error, with its index in the report."""
    import jsonschema

    schema = shipped_schema(REPORT_SCHEMA)
    definitions = schema["$defs"]
    items = schema["properties"][key]["items"]
    validator = jsonschema.Draft202012Validator({"$defs": definitions, **items}, format_checker=jsonschema.FormatChecker())
    for offset, element in enumerate(batch):
        error = jsonschema.exceptions.best_match(validator.iter_errors(element))
        if error is not None:
            where = json_path([key, first + offset, *error.absolute_path])
            raise HygieneError(f"{display}: not a {KIND}: {where}: {error.message}")
