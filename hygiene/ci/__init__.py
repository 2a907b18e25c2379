"""The CI gate: baselines of known findings, the gates that decide the exit code, and diffs of two reports.

May import: :mod:`hygiene.api`, :mod:`hygiene.files`, :mod:`hygiene.config`
(for the gates' settings). It works on finished reports, never on deals.
"""
