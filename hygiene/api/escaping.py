"""How untrusted text is written in each output kind: one policy, shared by every reporter.

Everything that comes from an export, a configuration or a file name is
untrusted: a deal name may hold an ESC that recolours a terminal, a
newline that forges a report line, a right-to-left override that makes
``tcod.exe`` read as ``exe.doct``, or ``=HYPERLINK(...)`` that a
spreadsheet runs. Each function here makes text safe for one kind of
output and loses nothing a reader needs: a control character is *shown*
(``\\x1b``, ``\\u202e``), never dropped silently.

The characters every output kind treats as hostile, :data:`CONTROL_CHARACTERS`:

- C0 controls (U+0000-U+001F) and DEL (U+007F);
- C1 controls (U+0080-U+009F), U+009B among them, which some terminals
  take for the two-byte CSI that starts an escape sequence;
- bidirectional controls (U+202A-U+202E, U+2066-U+2069, and the marks
  U+200E, U+200F, U+061C), which reorder how the rest of a line is shown;
- the line and paragraph separators U+2028 and U+2029, which editors and
  JavaScript take for line ends.

Per output kind:

=====================  =============================================================
terminal               :func:`terminal_text`: every one of them shown escaped, tab and
                       newline included (a newline must not forge a line)
CSV or XLSX cell       :func:`spreadsheet_cell`: C0, DEL and C1 controls shown escaped,
                       except tab, CR and LF (a quoted cell holds them); a cell a
                       spreadsheet would evaluate (``= + - @``, tab, CR first) gets
                       a leading ``'``
Markdown               :func:`markdown_cell`: one line, markup, HTML and ``@mentions``
                       neutralised, every control replaced by U+FFFD
HTML                   :func:`html_text`: ``& < > " '`` as entities, controls shown
                       escaped; for text and quoted attribute values
XML                    :func:`xml_text`: what XML 1.0 forbids replaced by U+FFFD, the
                       other controls shown escaped (``&`` and ``<`` are the XML writer's job)
JSON                   :func:`json_text`: applied to encoded JSON, writes C1, bidi
                       controls, U+2028/U+2029 and lone surrogates as ``\\u`` escapes
CI job log             :func:`log_text`: like the terminal, except CR and LF, which
                       GitHub's workflow commands escape themselves
=====================  =============================================================
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

_C0 = range(0x00, 0x20)
_DEL = 0x7F
_C1 = range(0x80, 0xA0)
#: Embeddings, overrides and isolates, and the three invisible direction marks.
BIDI_CONTROLS = frozenset(chr(code) for code in [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C])
LINE_SEPARATORS = frozenset({"\u2028", "\u2029"})
#: Every character an output must not carry raw (see the module documentation).
CONTROL_CHARACTERS = frozenset(chr(code) for code in [*_C0, _DEL, *_C1]) | BIDI_CONTROLS | LINE_SEPARATORS
#: Characters XML 1.0 forbids anywhere in a document besides C0 controls: lone surrogates, U+FFFE, U+FFFF.
XML_FORBIDDEN = frozenset(chr(code) for code in [*range(0xD800, 0xE000), 0xFFFE, 0xFFFF])

#: A spreadsheet takes a cell starting with one of these for a formula (or, for tab and CR, may
#: drop them and read what follows as one): an export's ``=HYPERLINK(...)`` must stay text.
FORMULA_TRIGGERS = r"^[=+\-@\t\r]"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: One long value from the export (a pasted e-mail in a deal name) must not crowd out a table.
MAX_MARKDOWN_CELL_CHARS = 200
#: Characters that would format Markdown text (emphasis, code, links, strike-through) or end a table cell.
_MARKDOWN_SPECIALS = str.maketrans({char: "\\" + char for char in "\\`*_[]~|"})


def visible(char: str) -> str:
    """How a control character is shown: ``\\x1b`` below U+0100, else ``\\u202e``."""
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


@functools.cache
def _escapes(keep: str = "", extra: frozenset[str] = frozenset()) -> dict[str, str]:
    return {char: visible(char) for char in sorted(CONTROL_CHARACTERS | extra) if char not in keep}


@functools.cache
def _table(keep: str = "", extra: frozenset[str] = frozenset()) -> dict[int, str]:
    return str.maketrans(_escapes(keep, extra))


def _escaped_expr(columns: str | list[str], keep: str = "") -> pl.Expr:
    import polars as pl

    escapes = _escapes(keep)
    return pl.col(columns).str.replace_many(list(escapes), list(escapes.values()))


#: Control characters and how a terminal report shows them (kept under its earlier name).
TERMINAL_ESCAPES = _escapes()


def terminal_text(text: object) -> str:
    """``text`` for a terminal: every control character shown escaped (``\\x1b`` for ESC, ``\\x0a`` for a newline)."""
    return str(text).translate(_table())


def terminal_text_expr(columns: str | list[str]) -> pl.Expr:
    """:func:`terminal_text` for string columns, vectorised."""
    return _escaped_expr(columns)


def log_text(text: object) -> str:
    """``text`` for a CI job log line: as :func:`terminal_text`, but CR and LF are left to the log's own escaping."""
    return str(text).translate(_table("\r\n"))


#: What a spreadsheet cell keeps raw: tab, line breaks (a quoted CSV cell holds them), and the bidi
#: controls and separators of text in right-to-left scripts, which drive no terminal and which a
#: reader filtering the sheet expects to find as the export has them.
SPREADSHEET_KEPT = "\t\n\r" + "".join(sorted(BIDI_CONTROLS | LINE_SEPARATORS))


def spreadsheet_cell(text: object) -> str:
    """``text`` as a CSV or XLSX cell: C0, DEL and C1 controls shown escaped (not tab, CR, LF), formulas neutralised."""
    value = str(text)
    prefix = "'" if value.startswith(_FORMULA_STARTS) else ""
    return prefix + value.translate(_table(SPREADSHEET_KEPT))


def neutralise_formulas(column: str) -> pl.Expr:
    """A text column with a ``'`` before every cell a spreadsheet would evaluate."""
    import polars as pl

    text = pl.col(column)
    return pl.when(text.str.contains(FORMULA_TRIGGERS)).then(pl.lit("'") + text).otherwise(text).alias(column)


def spreadsheet_cell_expr(column: str) -> pl.Expr:
    """:func:`spreadsheet_cell` for a string column, vectorised (nulls stay null)."""
    import polars as pl

    text = pl.col(column)
    escaped = _escaped_expr(column, SPREADSHEET_KEPT)
    return pl.when(text.str.contains(FORMULA_TRIGGERS)).then(pl.lit("'") + escaped).otherwise(escaped).alias(column)


#: Rendered Markdown is read, not copied: a control character there is only noise, so it becomes U+FFFD.
_MARKDOWN_REPLACED = str.maketrans(dict.fromkeys(CONTROL_CHARACTERS, "\ufffd"))


def markdown_cell(value: object, max_chars: int = MAX_MARKDOWN_CELL_CHARS) -> str:
    """A value as one Markdown table cell: one line, no markup, no HTML, no mention, controls replaced by U+FFFD."""
    if value is None:
        return ""
    text = str(value)
    if len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    # Line breaks become spaces (a table row is one line); every other control is replaced.
    text = text.replace("\r\n", " ")
    for char in "\r\n\t\v\f\x85\u2028\u2029":
        text = text.replace(char, " ")
    text = text.translate(_MARKDOWN_REPLACED).translate(_MARKDOWN_SPECIALS)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # ``@name`` notifies that GitHub user or team; a word joiner keeps the text and drops the ping.
    return _break_mentions(text)


def _break_mentions(text: str) -> str:
    parts = text.split("@")
    out = [parts[0]]
    for part in parts[1:]:
        out.append("@\u2060" + part if part[:1].isalnum() or part[:1] == "_" else "@" + part)
    return "".join(out)


def html_text(value: object) -> str:
    """``value`` for HTML text or a quoted attribute value: ``& < > " '`` as entities, controls shown escaped.

    Tab and newline are kept (they are whitespace to HTML). Never put untrusted text in an
    ``href``, ``src``, ``style`` or ``on*`` attribute, or inside ``<script>`` or ``<style>``:
    escaping does not make a ``javascript:`` URL safe.
    """
    import html  # not at import time: the command line's start-up does not need it

    return html.escape(str(value).translate(_table("\t\n", XML_FORBIDDEN)), quote=True)


#: What XML 1.0 forbids (C0 controls but tab, CR and LF; lone surrogates; U+FFFE, U+FFFF): a parser
#: rejects the whole document for one, and no escape can carry them, so they become U+FFFD.
_XML_REPLACED_CHARS = frozenset([*(chr(c) for c in _C0 if chr(c) not in "\t\n\r"), *XML_FORBIDDEN])


@functools.cache
def _xml_replaced() -> dict[int, str]:
    return str.maketrans(dict.fromkeys(_XML_REPLACED_CHARS, "\ufffd"))


def xml_text(value: object) -> str:
    """``value`` for XML 1.0 text or attributes: what XML forbids as U+FFFD, the other controls shown escaped.

    Tab and newline are kept; DEL, C1 and bidi controls and U+2028/U+2029 are shown as
    ``\x85``-style escapes. ``&``, ``<`` and quotes are left to the XML writer, which escapes
    them; use :func:`xml_escape` when writing XML by hand.
    """
    return str(value).translate(_xml_replaced()).translate(_table("\t\n\ufffd"))


def xml_escape(value: object) -> str:
    """``value`` as XML text or a double-quoted attribute value, written by hand: :func:`xml_text` plus entities."""
    text = xml_text(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    # An attribute's tab and newline would be normalised to spaces by a parser: keep them as references.
    return text.replace("\t", "&#9;").replace("\n", "&#10;")


def xml_escape_expr(column: str | pl.Expr, *, attribute: bool = True) -> pl.Expr:
    """:func:`xml_escape` for a string column, vectorised; with ``attribute=False``, for element text (tab and newline kept raw)."""
    import polars as pl

    expr = pl.col(column) if isinstance(column, str) else column
    mapping = {char: "\ufffd" for char in _XML_REPLACED_CHARS if not 0xD800 <= ord(char) < 0xE000}  # polars holds no surrogates
    mapping |= {char: visible(char) for char in CONTROL_CHARACTERS if char not in mapping and char not in "\t\n"}
    mapping |= {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
    if attribute:
        mapping |= {'"': "&quot;", "\t": "&#9;", "\n": "&#10;"}
    # One pass: a replacement is never scanned again, so the & of &lt; stays as it is.
    return expr.str.replace_many(list(mapping), list(mapping.values()))


@functools.cache
def json_escapes() -> dict[str, str]:
    """Characters valid in a JSON string but unsafe raw in a JSON file -> their ``\\u`` escapes."""
    unsafe = (CONTROL_CHARACTERS - frozenset(chr(c) for c in _C0)) | (XML_FORBIDDEN - {"\ufffe", "\uffff"})
    return {char: f"\\u{ord(char):04x}" for char in sorted(unsafe)}


@functools.cache
def _json_table() -> dict[int, str]:
    return str.maketrans(json_escapes())


def json_text(encoded: str) -> str:
    """Encoded JSON with DEL, C1 and bidi controls, U+2028/U+2029 and lone surrogates as ``\\u`` escapes.

    Those characters can only occur inside JSON strings, where an escape means the same
    character, so the document decodes to the same value. (C0 controls are escaped by every
    JSON encoder already.)
    """
    return encoded.translate(_json_table())


def json_text_expr(column: str | pl.Expr) -> pl.Expr:
    """:func:`json_text` for a column (or an expression) of encoded JSON, vectorised (polars strings hold no surrogates)."""
    import polars as pl

    escapes = {char: code for char, code in json_escapes().items() if not 0xD800 <= ord(char) < 0xE000}
    expr = pl.col(column) if isinstance(column, str) else column
    return expr.str.replace_many(list(escapes), list(escapes.values()))
