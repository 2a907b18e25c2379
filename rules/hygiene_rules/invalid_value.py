import polars as pl

from hygiene import PipelineRule

from hygiene_rules.stage_checks import text


class InvalidValue(PipelineRule):
    """A cell cannot be read as its field's type.

    **Why**

    A date that is not a date or an amount that is not a number silently
    drops the deal out of every rule that needs it. Better to say so, with
    the exact cell, than to audit a pipeline that is not what the export
    says.

    The finding names the row (as a spreadsheet shows it: the header is row
    1), the column and the raw value. The field is null for the other rules.
    Dates are ISO (``2026-03-31`` or a datetime whose date part is used)
    unless ``[source] date_format`` says otherwise; numbers are plain
    decimals (``[source] decimal = ","`` reads ``1.234,56``); probabilities
    are percentages from 0 to 100; counts are whole numbers of at least 0.
    A row with an empty id cannot be audited at all.

    **Example**

    ``Close Date = 31/03/2026`` with no ``date_format``: "row 17, column
    'Close Date': '31/03/2026' is not a date (YYYY-MM-DD)".

    **Fix**

    Correct the cell in the CRM, or tell hygiene how the export writes it
    (``date_format``, ``decimal``).
    """

    code = "HY900"
    name = "invalid-value"
    summary = "A cell cannot be read as its field's type"
    severity = "error"
    group = "integrity"
    weight = 10

    def check(self, deals, ctx):
        invalid = ctx.invalid_values
        if invalid is None or invalid.height == 0:
            return []
        return invalid.select(
            "deal_id",
            "deal_name",
            "owner",
            "row",
            text(
                "row {}, column '{}': '{}' is not {}",
                pl.col("row"),
                pl.col("column"),
                pl.col("value").fill_null(""),
                pl.col("expected"),
            ).alias("message"),
            pl.struct("field", "column", "value", "expected").alias("details"),
        )
