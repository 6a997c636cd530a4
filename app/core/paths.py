"""Where Visage keeps its files. Environment variables override the platform defaults.

- ``VISAGE_DATA_DIR``: database, converted models, avatars (default: platformdirs user data dir)
- ``VISAGE_CONFIG_DIR``: ``config.toml`` (default: platformdirs user config dir)
- ``VISAGE_MODELS_DIR``: models prepared at setup (default: ``<user data dir>/models``)
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "visage"


def config_dir() -> Path:
    env = os.environ.get("VISAGE_CONFIG_DIR")
    return Path(env).expanduser() if env else Path(platformdirs.user_config_dir(APP_NAME))


def config_file() -> Path:
    return config_dir() / "config.toml"


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    if override:
        return Path(override).expanduser()
    env = os.environ.get("VISAGE_DATA_DIR")
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir(APP_NAME))


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
    import sys

    if not getattr(sys, "frozen", False):
        return None
    root = Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)) / "models"
    return root if root.is_dir() else None


def database_file(data: Path | None = None) -> Path:
    return (data or data_dir()) / "visage.db"
