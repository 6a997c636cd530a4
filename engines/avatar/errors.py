"""Errors of the avatar engines, as subclasses of the project's ``VisageError`` hierarchy."""

from __future__ import annotations

from app.core.errors import ConfigError, EngineError, StorageError


class LipSyncInputError(EngineError):
    """Phoneme timings or audio handed to the viseme track cannot be used (wrong type, order, rate)."""


class AvatarConfigError(ConfigError):
    """An avatar definition (``avatar.toml``) is missing, unreadable or holds a bad value."""


class ClipOutputError(StorageError):
    """A video clip cannot be written where the user asked for it."""
