"""Where the engines find the models Visage prepared, and the ``config.toml`` their hints point at.

The one owner of these locations: ``app.core.paths`` re-exports them beside the app's own (the data
folder, the database). Environment variables override the platform defaults:

- ``VISAGE_CONFIG_DIR``: ``config.toml`` (default: platformdirs user config dir)
- ``VISAGE_MODELS_DIR``: models prepared at setup (default: ``<user data dir>/models``)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "visage"


def config_dir() -> Path:
    env = os.environ.get("VISAGE_CONFIG_DIR")
    return Path(env).expanduser() if env else Path(platformdirs.user_config_dir(APP_NAME))


def config_file() -> Path:
    return config_dir() / "config.toml"


def models_dir() -> Path:
    """Models Visage prepared itself (joined, patched) or the user added through the app.

    ``VISAGE_MODELS_DIR`` overrides it. It does not follow ``--data-dir``: pointing history at another
    folder must not make the prepared models disappear.
    """
    env = os.environ.get("VISAGE_MODELS_DIR")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME)) / "models"


def bundled_models_dir() -> Path | None:
    """Prepared models shipped inside an installed bundle (PyInstaller), read-only; None when not bundled.

    Looked up after :func:`models_dir`, so a model the user prepared or added again wins.
    """
    if not getattr(sys, "frozen", False):
        return None
    root = Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)) / "models"
    return root if root.is_dir() else None
