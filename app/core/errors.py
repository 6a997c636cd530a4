"""One error hierarchy for Visage.

The shared classes live in :mod:`engines.errors` (engines must not import the app); this module
re-exports them (same class objects) and adds the errors only the app raises.
"""

from __future__ import annotations

from engines.errors import (
    AudioInputError,
    Cancelled,
    ConfigError,
    DependencyError,
    EngineError,
    ModelError,
    NetworkError,
    StorageError,
    VisageError,
)

__all__ = [
    "AudioDeviceError",
    "AudioInputError",
    "Cancelled",
    "ConfigError",
    "DependencyError",
    "EngineError",
    "ModelError",
    "NetworkError",
    "NotFoundError",
    "StorageError",
    "VisageError",
]


class AudioDeviceError(VisageError):
    """No usable sound card / audio device."""

    exit_code = 4

class NotFoundError(VisageError):
    """Something the user asked for by id or name (a conversation, a draft) does not exist."""

    exit_code = 8
