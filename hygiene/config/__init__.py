"""Configuration: reading and validating ``hygiene.toml``, its schema, custom rules, waivers, rule selection.

Every problem becomes one line naming the file and the key. Custom rules
(``[[custom_rules]]``) are compiled here and registered in the plugin
registry like any plugin's rule; selection decides which rules run, with
which severity and options.

May import: :mod:`hygiene.api`, :mod:`hygiene.files`, :mod:`hygiene.plugin`.
"""
