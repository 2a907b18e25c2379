"""Pipeline history: a store of dated snapshots of the deal table, and what is read from it.

A snapshot is one export, normalised, kept as *versions*: one row per deal
per stretch of dates over which none of its fields changed (type-2, valid
from / valid to), so an unchanged deal costs nothing per snapshot. From the
versions come the fields an export lacks (days in stage, close-date
pushes, previous amounts: :mod:`hygiene.history.derive`), the open-pipeline
waterfall between two dates (:mod:`hygiene.history.flow`), the trend of
recorded audit runs (:mod:`hygiene.history.trend`) and the status of each
finding against the previous run (:mod:`hygiene.history.status`).

The store is a SQL database reached through SQLAlchemy Core
(:mod:`hygiene.history.store`): an SQLite file by default, any SQLAlchemy
URL (PostgreSQL first) for a team. CRM change logs (Salesforce
``OpportunityHistory``, ``OpportunityFieldHistory``) become versions too
(:mod:`hygiene.history.crm_history`).

May import: :mod:`hygiene.api`, :mod:`hygiene.files`, :mod:`hygiene.plugin`,
:mod:`hygiene.config`, polars, SQLAlchemy and the standard library.
Never the audit run, the CI gate, the commands or the CLI: they call this
package, not the other way round.
"""
