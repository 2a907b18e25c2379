import polars as pl

from hygiene import PipelineRule

from hygiene_rules.stage_checks import text


class DuplicateDealId(PipelineRule):
    """A row repeats a deal id already seen in the export.

    **Why**

    Deal ids are unique in the CRM. A repeated id means a bad join, a
    double export or a merge gone wrong, and every total over the export
    counts that deal twice. Only the first row with an id is audited by
    the other rules; each later one is reported here.

    **Example**

    Rows 5 and 12 both have id ``006A1``: row 12 is flagged, naming row 5.

    **Fix**

    Fix the export (or the CRM merge) so each deal appears once.
    """

    code = "HY902"
    name = "duplicate-deal-id"
    summary = "Row repeats a deal id seen earlier in the export"
    severity = "error"
    group = "integrity"
    weight = 5

    def check(self, deals, ctx):
        duplicates = ctx.duplicate_rows
        if duplicates is None or duplicates.height == 0:
            return []
        return duplicates.select(
            "deal_id",
            "deal_name",
            "owner",
            "row",
            text("row {} repeats deal id '{}' first seen at row {}", pl.col("row"), pl.col("deal_id"), pl.col("first_row")).alias("message"),
            pl.struct("first_row").alias("details"),
        )
