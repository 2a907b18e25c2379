"""One audit, in flow order: read the source, normalise, run the rules, make the findings, apply waivers, write reports.

``read`` (source plugins) -> ``normalise`` (canonical fields, types,
invalid cells, duplicate ids) -> ``engine`` (rules, vectorised) ->
``findings`` (one table, fingerprinted, sorted) -> ``waivers`` ->
``reporting`` (reporter plugins, files written atomically). ``run`` ties
them together.

May import: :mod:`hygiene.api`, :mod:`hygiene.files`, :mod:`hygiene.plugin`,
:mod:`hygiene.config` (and :mod:`hygiene.history` once it exists).
"""
