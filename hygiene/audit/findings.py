"""Findings as one polars table: built from what rules return, fingerprinted and sorted.

Every finding table of an audit is built here (vectorised rules' flagged
deals, messages a rule wrote in Python, pipeline rules' findings, rule
errors, waivers' findings), so every reporter meets the same columns,
:data:`hygiene.FINDING_SCHEMA`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl
import polars_hash

from hygiene.api.fields import ROW_COLUMN
from hygiene.api.models import FINGERPRINT_SEPARATOR as SEP
from hygiene.api.models import RULE_ERROR_CODE, RULE_ERROR_NAME, SEVERITY_RANK, Finding
from hygiene.api.report import FINDING_SCHEMA
from hygiene.config.selection import ConfiguredRule

#: The finding columns a rule's output provides; the engine adds the fingerprint.
UNFINGERPRINTED = {column: dtype for column, dtype in FINDING_SCHEMA.items() if column != "fingerprint"}
#: What a finding is, as opposed to who found it.
RULE_COLUMNS = ("code", "rule", "severity")


def finding_table(configured: ConfiguredRule | None = None, /, **columns: Sequence[Any]) -> pl.DataFrame:
    """Findings from Python values, one sequence per column; a column not given is null (details ``{}``).

    ``configured`` fills ``code``, ``rule`` and ``severity``; without it they
    must be given. ``fingerprint`` may be given too (the waivers' findings
    have identities of their own); otherwise the column is left out, for
    :func:`finish` to add.
    """
    height = len(next(iter(columns.values()))) if columns else 0
    if configured is not None:
        columns = {"code": [configured.code] * height, "rule": [configured.name] * height, "severity": [configured.severity] * height, **columns}
    schema = FINDING_SCHEMA if "fingerprint" in columns else UNFINGERPRINTED
    defaults = {"details": ["{}"] * height}
    return pl.DataFrame({column: columns.get(column, defaults.get(column, [None] * height)) for column in schema}, schema=schema)


def flagged_deal_columns(configured: ConfiguredRule, message: pl.Expr, details: pl.Expr, severity: pl.Expr | None = None) -> list[pl.Expr]:
    """The finding columns over a table of flagged deals, for a vectorised rule (``severity``: its ``severity_expr``)."""
    return [
        pl.lit(configured.code).alias("code"),
        pl.lit(configured.name).alias("rule"),
        (pl.lit(configured.severity) if severity is None else severity.fill_null(configured.severity)).alias("severity"),
        pl.col("id").alias("deal_id"),
        pl.col("name").alias("deal_name"),
        pl.col("owner"),
        message.alias("message"),
        details.alias("details"),
        pl.col(ROW_COLUMN).alias("row"),
        pl.col("amount"),
    ]


def details_json(details: Mapping[str, pl.Expr]) -> pl.Expr:
    """A rule's named detail expressions as one JSON object per finding."""
    if not details:
        return pl.lit("{}")
    return pl.struct(**details).struct.json_encode()


def findings_from_messages(configured: ConfiguredRule, rows: list[dict[str, Any]], messages: list[str]) -> pl.DataFrame:
    """Findings for deals (rows of the deal table) with messages a rule wrote in Python."""
    return finding_table(
        configured,
        deal_id=[r["id"] for r in rows],
        deal_name=[r["name"] for r in rows],
        owner=[r["owner"] for r in rows],
        message=messages,
        row=[r[ROW_COLUMN] for r in rows],
        amount=[r["amount"] for r in rows],
    )


def findings_from_pipeline_rule(configured: ConfiguredRule, result: Iterable[Finding] | pl.DataFrame) -> pl.DataFrame:
    """What a pipeline rule's ``check`` returned (finding objects, or a frame of finding columns), as findings.

    Raises :class:`TypeError` or :class:`ValueError` (the rule's HY999) for
    output that is not findings: an unknown column, a missing
    message, no ``deal_id`` or ``owner`` to say what a finding is about,
    a column of the wrong type, or details that are not a JSON object.
    """
    if isinstance(result, pl.LazyFrame):
        result = result.collect()
    if not isinstance(result, pl.DataFrame):
        findings = list(result)
        for index, finding in enumerate(findings):
            if not isinstance(finding, Finding):
                raise TypeError(f"check() returned {type(finding).__name__} at position {index}; expected Finding objects or a DataFrame")
            if not isinstance(finding.message, str):
                raise ValueError(f"finding {index} has no message (got {finding.message!r})")
        return finding_table(
            configured,
            deal_id=[f.deal_id for f in findings],
            deal_name=[f.deal_name for f in findings],
            owner=[f.owner for f in findings],
            message=[f.message for f in findings],
            details=[json.dumps(dict(f.details), default=_json_default, ensure_ascii=False, separators=(",", ":"), allow_nan=False) for f in findings],
            row=[f.row for f in findings],
            amount=[_finite(f.details.get("amount")) for f in findings],
        )
    _check_pipeline_frame(result)
    columns = []
    for column, dtype in UNFINGERPRINTED.items():
        if column in RULE_COLUMNS:
            columns.append(pl.lit(getattr(configured, "name" if column == "rule" else column)).alias(column))
        elif column == "details" and "details" in result.columns and result.schema["details"] != pl.String:
            columns.append(pl.col("details").struct.json_encode().fill_null("{}"))
        elif column == "details" and "details" in result.columns:
            columns.append(pl.col("details").fill_null("{}"))
        elif column in result.columns:
            columns.append(pl.col(column).cast(dtype))
        else:
            columns.append(pl.lit("{}" if column == "details" else None, dtype=dtype).alias(column))
    return result.select(columns)


#: Columns a pipeline rule's frame may hold: the finding columns it provides (the engine fills the rule's own).
PIPELINE_FRAME_COLUMNS = tuple(column for column in UNFINGERPRINTED if column not in RULE_COLUMNS)


def _finite(value: Any) -> float | None:
    """A finding's amount: a finite number, else none (NaN and infinity are not amounts, nor JSON)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _check_pipeline_frame(frame: pl.DataFrame) -> None:
    unknown = [column for column in frame.columns if column not in PIPELINE_FRAME_COLUMNS]
    if unknown:
        raise ValueError(f"check() returned unknown column(s) {', '.join(map(repr, unknown))}; finding columns are {', '.join(PIPELINE_FRAME_COLUMNS)}")
    if frame.height == 0:
        return
    if "message" not in frame.columns:
        raise ValueError("check() returned findings without a 'message' column")
    if frame.schema["message"] != pl.String:
        raise TypeError(f"check() returned a 'message' column of {frame.schema['message']}; expected String")
    empty = frame.select(pl.col("message").is_null().arg_true().first()).item()
    if empty is not None:
        raise ValueError(f"check() returned a finding without a message (finding {empty})")
    if "amount" in frame.columns and frame.schema["amount"].is_float() and not frame.get_column("amount").drop_nulls().is_finite().all():
        raise ValueError("check() returned an 'amount' that is NaN or infinite")
    if "deal_id" not in frame.columns and "owner" not in frame.columns:
        raise ValueError("check() returned findings with neither a 'deal_id' nor an 'owner' column: a finding must say what it is about")
    if "details" in frame.columns:
        dtype = frame.schema["details"]
        if dtype == pl.String:
            for index, text in enumerate(frame.get_column("details").to_list()):
                if text is not None and not _is_json_object(text):
                    raise ValueError(f"check() returned details that are not a JSON object (finding {index}: {text[:60]!r})")
        elif not isinstance(dtype, pl.Struct):
            raise TypeError(f"check() returned a 'details' column of {dtype}; expected a struct or a JSON object as text")


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text, parse_constant=_refuse_constant), dict)
    except (ValueError, RecursionError):
        return False


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def rule_error(configured: ConfiguredRule, exc: BaseException) -> pl.DataFrame:
    """The HY999 finding of a rule that raised, naming the plugin, the rule and the exception."""
    # A finding is one line: polars' errors go on to quote the whole expression below the first.
    reason = (str(exc).strip().splitlines() or [""])[0]
    if type(exc).__name__ == "PanicException":
        reason = f"polars panicked: {reason}"
    message = f"rule {configured.code} ({configured.name}) from plugin {configured.plugin!r} failed: {type(exc).__name__}: {reason}"
    details = json.dumps({"rule": configured.code, "plugin": configured.plugin, "exception": type(exc).__name__}, separators=(",", ":"))
    return finding_table(code=[RULE_ERROR_CODE], rule=[RULE_ERROR_NAME], severity=["error"], message=[message], details=[details])


def finish(parts: list[pl.DataFrame], periods: Mapping[str, str], default_period: str) -> pl.DataFrame:
    """All findings in one table, fingerprinted (see :func:`hygiene.fingerprint`) and in report order.

    ``periods`` gives each rule code's period name, which owner-level findings' fingerprints include.
    ``parts`` is emptied: the findings table shares their memory, and
    holding them too would keep every unsorted finding alive beside the
    sorted ones.
    """
    frames = [part.select([pl.col(c).cast(t) for c, t in UNFINGERPRINTED.items()]) for part in parts if part.height]
    del parts[:]
    # Not rechunked: the sort below gathers every column into one chunk anyway.
    findings = pl.concat(frames, rechunk=False) if frames else pl.DataFrame(schema=UNFINGERPRINTED)
    # The vectorised twin of hygiene.api.models.fingerprint_key; a test keeps the two in agreement.
    key = (
        pl.when(pl.col("deal_id").is_not_null())
        .then(pl.concat_str([pl.col("code"), pl.lit(f"{SEP}deal{SEP}"), pl.col("deal_id")]))
        .otherwise(
            pl.concat_str(
                [
                    pl.col("code"),
                    pl.lit(f"{SEP}owner{SEP}"),
                    pl.col("owner").fill_null(""),
                    pl.lit(SEP),
                    pl.col("code").replace_strict(dict(periods), default=default_period, return_dtype=pl.String),
                ]
            )
        )
    )
    keyed = findings.lazy().with_columns(key.alias(_KEY_COLUMN)).with_columns(fingerprint_hash(_KEY_COLUMN).alias("fingerprint"))
    findings = keyed.drop(_KEY_COLUMN).collect()
    del frames, keyed
    # Put in order a column at a time, each unsorted column freed once its sorted copy exists: sorting
    # the whole table at once held every finding twice, the audit's peak (about 0.2 GB a million findings).
    order = report_order(findings)
    columns = findings.get_columns()
    del findings
    for index, column in enumerate(columns):
        columns[index] = column.gather(order)
    del column
    return pl.DataFrame(columns)


def fingerprint_hash(key_column: str) -> pl.Expr:
    """:func:`hygiene.api.models.hash_fingerprint_key` of each key: the first 20 hex digits of its SHA-256, in one native pass.

    polars-hash computes the SHA-256 of the key's UTF-8 bytes, as
    ``hashlib`` does (a property test holds the two equal for any text), so
    the fingerprints in users' baselines keep matching, without a Python
    string per finding.
    """
    return polars_hash.col(key_column).chash.sha2_256().str.slice(0, 20)


_KEY_COLUMN = "__fingerprint_key__"


def sort_findings(findings: pl.DataFrame) -> pl.DataFrame:
    """``findings`` in report order (see :func:`report_order`)."""
    return findings[report_order(findings)]


def report_order(findings: pl.DataFrame) -> pl.Series:
    """The positions of ``findings`` in report order: most severe first, then by owner, deal id, code, row and message.

    Findings that agree on everything but the message (one rule's several
    findings about one row, such as its unreadable cells) are few, so the
    messages, the longest key, are compared only when there are such ties:
    a stable sort by the other keys, and only if two neighbours then agree
    on all of them, a stable sort by all six keys.
    """
    rank = pl.col("severity").replace_strict(SEVERITY_RANK, default=len(SEVERITY_RANK), return_dtype=pl.Int8)
    keys = [rank.alias(_RANK_COLUMN), pl.col("owner"), pl.col("deal_id"), pl.col("code"), pl.col("row")]
    order = findings.select(pl.arg_sort_by(keys, nulls_last=True, maintain_order=True)).to_series()
    names = [_RANK_COLUMN, "owner", "deal_id", "code", "row"]
    same_as_previous = pl.all_horizontal(pl.col(k).eq_missing(pl.col(k).shift(1)) for k in names)
    if findings.select(keys).select(pl.all().gather(order)).select(same_as_previous.any()).item():
        order = findings.select(pl.arg_sort_by([*keys, pl.col("message")], nulls_last=True, maintain_order=True)).to_series()
    return order


_RANK_COLUMN = "__severity_rank__"
