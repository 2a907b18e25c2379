"""The plugin core: pluggy markers and hook specifications, loading plugins, and the registry.

Loading takes plugins from the ``hygiene`` entry-point group and from the
modules a configuration names; the registry is the only place a rule,
source or reporter is registered and checked (custom rules included).

May import: :mod:`hygiene.api`, pluggy and the standard library.
"""
