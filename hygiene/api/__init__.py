"""The public API: everything a plugin author touches, and nothing else.

Rule, source and reporter base classes, the rule context, the models
(deals, findings, stages, periods), the canonical fields, the stage table,
message templates, the report object reporters receive, and how reports
name findings. ``hygiene/__init__.py`` re-exports exactly these names;
built-in plugins use them as any third party does.

May import: the standard library, attrs and polars. Nothing else of
hygiene: every other layer builds on this one.
"""
