"""Forecasting and pipeline analytics: win rates, sales cycle, velocity, the period's forecast three ways, calibration and lead-generation need.

Every figure is a pure function of a table of canonical deals (as
normalisation produces it), the stage table, the quotas and an explicit
``as_of``; nothing here reads a file or the clock. ``hygiene forecast``
(:mod:`hygiene.commands.forecast`) reads and normalises the export, then
calls :func:`hygiene.forecast.report.build_forecast`, whose JSON document is
the single source the console and Markdown renderings are made from.

May import: :mod:`hygiene.api`, :mod:`hygiene.files`, :mod:`hygiene.plugin`,
:mod:`hygiene.config` (and, when it exists, :mod:`hygiene.history`), polars,
numpy and the standard library. Never the audit, the CI gate or the
commands.
"""
