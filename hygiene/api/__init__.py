"""The public API: everything a plugin author touches, and nothing else.

Rule, source and reporter base classes, the rule context, the models
(deals, findings, stages, periods), the canonical fields, the stage table,
message templates, the report object reporters receive, how reports
name findings, and what an HTML page is built with (the page environment
and the SVG chart geometry). ``hygiene/__init__.py`` re-exports exactly these names;
built-in plugins use them as any third party does.

May import: the standard library, attrs and polars (and Jinja2, for the
page environment only). Nothing else of hygiene: every other layer builds
on this one.
"""
