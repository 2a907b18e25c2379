from hygiene.waivers import UNUSED_WAIVER_CODE, UNUSED_WAIVER_NAME, WaiverRule


class UnusedWaiver(WaiverRule):
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

    code = UNUSED_WAIVER_CODE
    name = UNUSED_WAIVER_NAME
    summary = "A [[waivers]] entry in force matches no finding"
    severity = "info"
