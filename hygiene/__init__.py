"""hygiene: a rule-based sales pipeline hygiene engine.

The public API for plugin authors is importable from here. Names are
resolved lazily so that ``hygiene --help`` does not pay for polars.
"""

from __future__ import annotations

from hygiene.markers import hookimpl, hookspec

__version__ = "0.1.0"

_LAZY = {
    "DealRule": "hygiene.rule",
    "PipelineRule": "hygiene.rule",
    "RuleContext": "hygiene.rule",
    "Deal": "hygiene.models",
    "Finding": "hygiene.models",
    "Source": "hygiene.source",
    "RawTable": "hygiene.source",
    "Reporter": "hygiene.reporter",
    "HygieneError": "hygiene.errors",
}

__all__ = ["__version__", "hookimpl", "hookspec", *_LAZY]


def __getattr__(name: str):
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'hygiene' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
