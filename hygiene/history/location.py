"""Whether an audit has a history store, answered without loading the store (SQLAlchemy).

Most audits have none: the store's modules are imported only when this says
one may be there (see :func:`hygiene.history.store.open_configured_store`).
"""

from __future__ import annotations

import os
from pathlib import Path

URL_VARIABLE = "HYGIENE_HISTORY_URL"
DEFAULT_STORE = Path(".hygiene") / "history.db"


def store_configured(config) -> bool:
    """True when ``[history]`` or ``HYGIENE_HISTORY_URL`` names a store, or the default file exists beside the configuration."""
    return config.history is not None or bool(os.environ.get(URL_VARIABLE)) or (config.base_dir / DEFAULT_STORE).is_file()
