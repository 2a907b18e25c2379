from hygiene import PipelineRule


class UnusedWaiver(PipelineRule):
    """A waiver in force matches no finding.

    **Why**

    A waiver that covers nothing is noise at best. At worst its deal id has
    a typo, or the deal was renamed, and the finding it was written for is
    failing the audit anyway; or the problem was fixed and the waiver now
    waits to hide the next one on that deal.

    The audit reports this, not the deals: a waiver is judged only when one
    of the rules it names ran.

    **Example**

    ``[[waivers]] deal = "006A1", rule = "stale-stage"`` while deal 006A1
    is not stale: flagged, naming the waiver's position in the file, its
    deal, rule, date and reason.

    **Fix**

    Remove the waiver, or correct its ``deal`` or ``rule``.
    """

    code = "HY910"
    name = "unused-waiver"
    summary = "A [[waivers]] entry in force matches no finding"
    severity = "info"
    group = "configuration"
    weight = 0

    def check(self, deals, ctx):
        # The audit makes this rule's findings from [[waivers]] once the other rules have run; the deals hold none.
        return []
