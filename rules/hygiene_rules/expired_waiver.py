from hygiene import PipelineRule


class ExpiredWaiver(PipelineRule):
    """A waiver's ``until`` date has passed.

    **Why**

    A waiver is a promise that a problem is temporary. Once its date has
    passed the findings it waived are reported again; this finding says
    why they are back, and that the waiver is now dead configuration.

    The audit reports this, not the deals. A waiver holds through its
    ``until`` day, so it expires the day after.

    **Example**

    ``until = 2026-03-31``: audited as of 2026-03-31 the waiver holds;
    as of 2026-04-01 it is flagged, with the findings it covered.

    **Fix**

    Fix the deal and remove the waiver, or, when the reason still holds,
    move ``until`` to a new date.
    """

    code = "HY911"
    name = "expired-waiver"
    summary = "A [[waivers]] entry's until date has passed"
    severity = "warning"
    group = "configuration"
    weight = 0

    def check(self, deals, ctx):
        # The audit makes this rule's findings from [[waivers]] once the other rules have run; the deals hold none.
        return []
