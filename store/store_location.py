"""Where the tool store lives unless told otherwise: $LATM_STORE, else .latm/tools.sqlite."""
from __future__ import annotations

import os

STORE_ENV = "LATM_STORE"
DEFAULT_STORE_PATH = ".latm/tools.sqlite"


def default_store_path() -> str:
    """$LATM_STORE, else .latm/tools.sqlite in the working directory."""
    return os.environ.get(STORE_ENV) or DEFAULT_STORE_PATH
