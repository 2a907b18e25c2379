"""Hook specifications: every hook a plugin may implement.

Hooks discover things (rules, sources, reporters, CRM presets). None is called once per
deal: the engine runs rules directly, vectorised over the deal table.
"""

from __future__ import annotations

from hygiene.plugin.markers import hookspec


@hookspec
def hygiene_register_rules() -> list[type]:
    """Return the rule classes this plugin provides.

    Called once when the plugin manager is built. Each class subclasses
    :class:`hygiene.DealRule` or :class:`hygiene.PipelineRule` and declares
    ``code``, ``name``, ``summary``, ``severity`` and ``options_schema``.
    Codes and names must be unique across all loaded plugins: a clash stops
    the run with exit code 2 naming both plugins. Codes starting with ``HY``
    are hygiene's own: a third-party rule using one stops the run too.
    """


@hookspec
def hygiene_register_sources() -> list[type]:
    """Return the source classes this plugin provides.

    Called once when the plugin manager is built. Each class subclasses
    :class:`hygiene.Source`, has a unique ``name`` (the ``[source] type``
    users write) and the file ``extensions`` it is chosen for by default.
    """


@hookspec
def hygiene_register_reporters() -> list[type]:
    """Return the reporter classes this plugin provides.

    Called once when the plugin manager is built. Each class subclasses
    :class:`hygiene.Reporter` and has a unique ``name`` (what users pass to
    ``--format``).
    """


@hookspec
def hygiene_register_presets() -> list:
    """Return the CRM presets this plugin provides (:class:`hygiene.Preset` instances).

    Called once when the plugin manager is built. Each preset has a unique
    ``name``: what users write as ``[source] preset``, and what ``hygiene
    init`` reports when it recognises an export's header. A preset names
    the export's columns for each canonical field, its date and number
    formats, its default stage table, where it says a deal is won or lost,
    and its forecast-category values.
    """
