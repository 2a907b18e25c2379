"""The pluggy markers of the ``hygiene`` project."""

import pluggy

PROJECT_NAME = "hygiene"
ENTRY_POINT_GROUP = "hygiene"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
