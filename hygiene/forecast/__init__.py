"""Forecasting and pipeline analytics: win rates, sales cycle, velocity, the period's forecast three ways, calibration, lead-generation need, and what history adds.

Every figure is a pure function of a table of canonical deals (as
normalisation produces it), the stage table, the quotas, an explicit
``as_of`` and, when a store exists, the pipeline history read from it
(:mod:`hygiene.forecast.history`: stage conversion, the funnel, forecast
accuracy, the rule backtest); nothing here reads the clock, and the only
thing read is the store, through its public reading methods.
``hygiene forecast`` (:mod:`hygiene.commands.forecast`) and ``hygiene
audit --forecast`` call :func:`hygiene.forecast.report.configured_forecast`,
whose JSON document is the single source the console, Markdown and HTML
renderings (:mod:`hygiene.forecast.render`, :mod:`hygiene.forecast.html`)
are made from.

May import: :mod:`hygiene.api`, :mod:`hygiene.files`, :mod:`hygiene.plugin`,
:mod:`hygiene.config`, :mod:`hygiene.history`, polars, numpy, Jinja2 and
the standard library. Never the audit, the CI gate or the commands.
"""
