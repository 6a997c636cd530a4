"""Where Visage keeps its files. Environment variables override the platform defaults.

- ``VISAGE_DATA_DIR``: database, converted models, avatars (default: platformdirs user data dir)
- ``VISAGE_CONFIG_DIR``: ``config.toml`` (default: platformdirs user config dir)
- ``VISAGE_MODELS_DIR``: models prepared at setup (default: ``<user data dir>/models``)

The config file and the models folders are defined in :mod:`engines.locations` (the engines find their
models there and name the config file in their hints) and re-exported here; the data folder is the app's.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from engines.locations import APP_NAME, bundled_models_dir, config_dir, config_file, models_dir

__all__ = [
    "APP_NAME",
    "bundled_models_dir",
    "config_dir",
    "config_file",
    "data_dir",
    "database_file",
    "models_dir",
]


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    if override:
        return Path(override).expanduser()
    env = os.environ.get("VISAGE_DATA_DIR")
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir(APP_NAME))


def database_file(data: Path | None = None) -> Path:
    return (data or data_dir()) / "visage.db"
