"""The SQL a custom rule's ``where`` may use, parsed here before polars sees any of it.

polars' SQL dialect reaches far beyond one deal's fields: table functions
(``read_csv('/etc/passwd')``), subqueries (``EXISTS (FROM ...)``), the
clock. A configuration is not code to run, so ``where`` is parsed by
:func:`parse_condition` into an allow-list of expression syntax, and
anything else is refused with one line naming the construct:

- column names (bare, or quoted with ``"..."`` or backticks) and literals:
  numbers, ``'strings'``, ``TRUE``, ``FALSE``, ``NULL``, ``DATE '...'``,
  ``INTERVAL '...'``;
- comparisons (``= == != <> < <= > >=``), ``AND``, ``OR``, ``NOT``,
  arithmetic (``+ - * / %``), ``||``;
- ``IS [NOT] NULL / TRUE / FALSE``, ``IS [NOT] DISTINCT FROM``,
  ``[NOT] IN (list)``, ``[NOT] BETWEEN ... AND ...``,
  ``[NOT] LIKE / ILIKE``, ``CASE ... END``;
- ``CAST`` / ``TRY_CAST`` (and ``::``) to a scalar type, and the scalar
  functions in :data:`FUNCTIONS`.

The size is capped (:data:`MAX_LENGTH` characters, :data:`MAX_NODES`
terms, :data:`MAX_DEPTH` levels of nesting), and the boolean structure
(``AND``, ``OR``, ``NOT``) is combined as polars expressions here: polars
compiles only the comparisons between them, each on its own, so a
condition of a thousand ``AND`` terms compiles in linear time (polars'
own SQL compiler takes tens of seconds for one).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    import polars as pl

MAX_LENGTH = 100_000
MAX_NODES = 20_000
MAX_DEPTH = 64

#: Scalar functions a condition may call (lower case). Everything else, table functions above
#: all, is refused.
FUNCTIONS = frozenset(
    """
    abs ceil ceiling floor round sign sqrt cbrt exp ln log log2 log10 power pow mod div greatest least
    coalesce nullif ifnull nvl
    lower upper length char_length character_length octet_length trim ltrim rtrim btrim substr substring
    left right replace concat concat_ws starts_with ends_with strpos reverse initcap lpad rpad split_part
    regexp_like date_part date_trunc strftime strptime extract year month day quarter week
    """.split()
)
#: Types ``CAST`` may convert to.
TYPES = frozenset(
    """
    int int2 int4 int8 integer bigint smallint tinyint uint1 uint2 uint4 uint8 utinyint usmallint uinteger ubigint
    float float4 float8 real double decimal numeric
    varchar char text string bool boolean date time timestamp datetime
    """.split()
)
#: Words that read the clock: an audit must be repeatable with its ``as_of``.
CLOCK_WORDS = frozenset({"current_date", "current_time", "current_timestamp", "localtime", "localtimestamp", "now"})
#: Words of SQL's query language: a condition reads one deal's fields, never a table.
QUERY_WORDS = frozenset(
    """
    select from where exists with union intersect except join lateral unnest values table into group order
    having limit offset window over qualify pivot unpivot using copy attach install load pragma set show describe
    create drop insert update delete alter
    """.split()
)
_KEYWORDS = frozenset(
    "and or not is null true false in between like ilike case when then else end cast try_cast as distinct date interval timestamp".split()
)

_ARITHMETIC = ("+", "-", "*", "/", "%", "||")
_COMPARISONS = ("=", "==", "!=", "<>", "<", "<=", ">", ">=")
#: What may follow a parenthesised value, telling it from a parenthesised condition.
_CONTINUATIONS = ("::", *_ARITHMETIC, *_COMPARISONS, "is", "in", "between", "like", "ilike", "not")

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>--|/\*)
  | (?P<string>'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")*"|`[^`]*`)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<op>::|<=|>=|<>|!=|==|\|\||[-+*/%=<>(),])
    """,
    re.VERBOSE,
)


class ConditionError(ValueError):
    """Why a ``where`` is refused; ``kind`` is ``syntax`` (invalid SQL) or ``refused`` (outside the allow-list)."""

    def __init__(self, message: str, kind: str = "refused") -> None:
        super().__init__(message)
        self.kind = kind


@attrs.define(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int

    @property
    def word(self) -> str:
        return self.text.lower() if self.kind == "word" else ""


@attrs.define(frozen=True)
class Condition:
    """A parsed ``where``: ``AND`` / ``OR`` / ``NOT`` nodes over comparisons, kept as their source text."""

    op: str  # "and", "or", "not", or "leaf"
    children: tuple[Condition, ...] = ()
    text: str = ""

    def operands(self) -> list[Condition]:
        """The comparisons that ``AND``, ``OR`` and ``NOT`` combine here: each must be true/false on its own."""
        if self.op == "leaf":
            return []
        return [part for child in self.children for part in ([child] if child.op == "leaf" else child.operands())]

    def to_expr(self) -> pl.Expr:
        """The condition as a polars expression: polars compiles each comparison, Python combines them."""
        import polars as pl

        if self.op == "leaf":
            return pl.sql_expr(self.text)
        parts = [child.to_expr() for child in self.children]
        if self.op == "not":
            return ~parts[0]
        # Flat, rather than a chain of ``&``: both follow SQL's three-valued logic (Kleene).
        return pl.all_horizontal(parts) if self.op == "and" else pl.any_horizontal(parts)


def tokenize(where: str) -> list[Token]:
    if len(where) > MAX_LENGTH:
        raise ConditionError(f"the condition is {len(where):,} characters long; at most {MAX_LENGTH:,} are allowed")
    tokens, position = [], 0
    while position < len(where):
        match = _TOKEN.match(where, position)
        if match is None:
            raise ConditionError(f"unexpected character {where[position]!r} at position {position + 1}", "syntax")
        kind = match.lastgroup
        if kind == "comment":
            raise ConditionError("comments are not supported in a condition")
        if kind != "space":
            tokens.append(Token(kind, match.group(), match.start(), match.end()))
        position = match.end()
    if len(tokens) > MAX_NODES:
        raise ConditionError(f"the condition has {len(tokens):,} terms; at most {MAX_NODES:,} are allowed")
    return tokens


def parse_condition(where: str) -> Condition:
    """``where`` checked against the allow-list; :class:`ConditionError` naming the first construct outside it."""
    parser = _Parser(where, tokenize(where))
    condition = parser.boolean(0)
    if parser.peek() is not None:
        token = parser.peek()
        raise ConditionError(f"unexpected {token.text!r} at position {token.start + 1}", "syntax")
    return condition


class _Parser:
    def __init__(self, source: str, tokens: list[Token]) -> None:
        self.source = source
        self.tokens = tokens
        self.index = 0

    # Tokens

    def peek(self, ahead: int = 0) -> Token | None:
        index = self.index + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def at(self, *texts: str) -> bool:
        token = self.peek()
        return token is not None and (token.word in texts or (token.kind == "op" and token.text in texts))

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise ConditionError("the condition ends too early", "syntax")
        self.index += 1
        return token

    def expect(self, text: str) -> Token:
        if not self.at(text):
            token = self.peek()
            found = f"{token.text!r} at position {token.start + 1}" if token else "the end"
            raise ConditionError(f"expected {text.upper() if text.isalpha() else repr(text)}, found {found}", "syntax")
        return self.take()

    def nested(self, depth: int) -> int:
        if depth >= MAX_DEPTH:
            raise ConditionError(f"the condition nests deeper than {MAX_DEPTH} levels")
        return depth + 1

    # Boolean structure: kept as nodes

    def boolean(self, depth: int) -> Condition:
        return self._chain("or", self._and, depth)

    def _and(self, depth: int) -> Condition:
        return self._chain("and", self._not, depth)

    def _chain(self, op: str, operand, depth: int) -> Condition:
        parts = [operand(depth)]
        while self.at(op):
            self.take()
            parts.append(operand(depth))
        return parts[0] if len(parts) == 1 else Condition(op, tuple(parts))

    def _not(self, depth: int) -> Condition:
        if self.at("not"):
            self.take()
            return Condition("not", (self._not(self.nested(depth)),))
        start = self.peek().start if self.peek() else len(self.source)
        if self.at("("):
            # A parenthesised condition stays a node; a parenthesised value, as in ``(amount - 5) > 3``,
            # is the start of a comparison: that is known at the closing parenthesis.
            self.take()
            inner = self.boolean(self.nested(depth))
            self.expect(")")
            if not self.at(*_CONTINUATIONS):
                return inner
            self._casts()
            self._arithmetic(depth)
            self._comparison(depth)
        else:
            self.predicate(depth)
        end = self.tokens[self.index - 1].end
        return Condition("leaf", text=self.source[start:end])

    # Values: checked, then handed to polars as text

    def predicate(self, depth: int) -> None:
        self.value(depth)
        self._comparison(depth)

    def _comparison(self, depth: int) -> None:
        negated = False
        if self.at("not") and self.peek(1) is not None and self.peek(1).word in ("in", "between", "like", "ilike"):
            self.take()
            negated = True
        if self.at(*_COMPARISONS):
            self.take()
            self.value(depth)
        elif self.at("is") and not negated:
            self.take()
            if self.at("not"):
                self.take()
            if self.at("distinct"):
                self.take()
                self._from_keyword()
                self.value(depth)
            elif self.at("null", "true", "false"):
                self.take()
            else:
                raise ConditionError("IS must be followed by NULL, TRUE, FALSE or DISTINCT FROM", "syntax")
        elif self.at("in"):
            self.take()
            self.expect("(")
            self._refuse_query()
            self.value(depth)
            while self.at(","):
                self.take()
                self.value(depth)
            self.expect(")")
        elif self.at("between"):
            self.take()
            self.value(depth)
            self.expect("and")
            self.value(depth)
        elif self.at("like", "ilike"):
            self.take()
            self.value(depth)
        elif negated:
            raise ConditionError("NOT must be followed by IN, BETWEEN, LIKE or ILIKE here", "syntax")

    def _from_keyword(self) -> None:
        # FROM is allowed only as part of IS [NOT] DISTINCT FROM and EXTRACT(field FROM value).
        if not (self.peek() and self.peek().word == "from"):
            raise ConditionError("expected FROM after DISTINCT", "syntax")
        self.take()

    def _refuse_query(self) -> None:
        token = self.peek()
        if token is not None and token.word in QUERY_WORDS:
            raise ConditionError("subqueries (SELECT) are not supported: the condition reads one deal's fields")

    def value(self, depth: int) -> None:
        depth = self.nested(depth)
        self.term(depth)
        self._arithmetic(depth)

    def _arithmetic(self, depth: int) -> None:
        while self.at(*_ARITHMETIC):
            self.take()
            self.term(depth)

    def term(self, depth: int) -> None:
        while self.at("-", "+"):
            self.take()
        self.primary(self.nested(depth))
        self._casts()

    def _casts(self) -> None:
        while self.at("::"):
            self.take()
            self.type_name()

    def primary(self, depth: int) -> None:
        token = self.take()
        if token.kind in ("number", "string", "quoted"):
            return
        if token.kind == "op":
            if token.text != "(":
                raise ConditionError(f"unexpected {token.text!r} at position {token.start + 1}", "syntax")
            self._refuse_query()
            self.boolean(depth)
            self.expect(")")
            return
        word = token.word
        if word in CLOCK_WORDS:
            raise ConditionError(f"{word} reads the clock; use as_of, the audit date, so that an audit can be repeated")
        if word in QUERY_WORDS:
            raise ConditionError(
                "subqueries (SELECT) are not supported: the condition reads one deal's fields"
                if word in ("select", "exists", "from", "with", "values", "table")
                else f"{token.text.upper()} is not allowed in a condition: it reads one deal's fields"
            )
        if word in ("true", "false", "null"):
            return
        if word in ("date", "timestamp", "interval") and self.peek() is not None and self.peek().kind == "string":
            self.take()
            return
        if word == "case":
            self._case(depth)
            return
        if word in ("cast", "try_cast"):
            self.expect("(")
            self.boolean(depth)
            self.expect("as")
            self.type_name()
            self.expect(")")
            return
        if self.at("("):
            self._call(token, depth)
            return
        if word in _KEYWORDS:
            raise ConditionError(f"unexpected {token.text.upper()} at position {token.start + 1}", "syntax")
        # A column name.

    def _case(self, depth: int) -> None:
        if not self.at("when"):
            self.value(depth)
        if not self.at("when"):
            raise ConditionError("CASE needs at least one WHEN ... THEN ...", "syntax")
        while self.at("when"):
            self.take()
            self.boolean(depth)
            self.expect("then")
            self.boolean(depth)
        if self.at("else"):
            self.take()
            self.boolean(depth)
        self.expect("end")

    def _call(self, token: Token, depth: int) -> None:
        name = token.word
        if name not in FUNCTIONS:
            raise ConditionError(f"unknown function {token.text}(): a condition may call only scalar functions ({', '.join(sorted(FUNCTIONS))})", "syntax")
        self.expect("(")
        self._refuse_query()
        if name == "extract":
            self.take()  # the field: YEAR, MONTH ...
            self._from_keyword()
            self.value(depth)
        elif not self.at(")"):
            self.boolean(depth)
            while self.at(","):
                self.take()
                self.boolean(depth)
        self.expect(")")

    def type_name(self) -> None:
        token = self.take()
        if token.word not in TYPES:
            raise ConditionError(f"CAST to {token.text!r} is not supported: cast to a scalar type ({', '.join(sorted(TYPES))})")
        if token.word == "double" and self.peek() is not None and self.peek().word == "precision":
            self.take()
        if self.at("("):
            self.take()
            precision = self.take()
            if precision.kind != "number" or not precision.text.isdigit():
                raise ConditionError(f"{token.text.upper()}(...) takes whole numbers", "syntax")
            if self.at(","):
                self.take()
                scale = self.take()
                if scale.kind != "number" or not scale.text.isdigit():
                    raise ConditionError(f"{token.text.upper()}(...) takes whole numbers", "syntax")
            self.expect(")")
