"""What only the command line needs: loading a session (configuration and plugins), ``init``, ``plugin new``, ``explain``, ``digest``, the progress line.

May import every layer below it: :mod:`hygiene.api`, :mod:`hygiene.files`,
:mod:`hygiene.plugin`, :mod:`hygiene.config`, :mod:`hygiene.audit`,
:mod:`hygiene.ci`. Only :mod:`hygiene.cli` and :mod:`hygiene.testing` import it.
"""
