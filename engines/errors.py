"""The error hierarchy engines raise (``app.core.errors`` re-exports it).

Every error carries a message written for the user that says what to do. ``retryable`` tells callers
whether trying again (later, or with the network back) can help.
"""

from __future__ import annotations


class VisageError(Exception):
    """Base of every error Visage raises on purpose. ``str(err)`` is meant for the user."""

    retryable: bool = False
    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message}\n  → {hint}")


class ConfigError(VisageError):
    """The settings file or a command-line option holds a value Visage cannot use."""

    exit_code = 2


class ModelError(VisageError):
    """A model is missing, unreadable or corrupt."""

    exit_code = 3


class DependencyError(VisageError):
    """A Python package or system library an engine needs is not installed."""

    exit_code = 3


class AudioInputError(VisageError):
    """An audio file or device could not be read (wrong type, empty, silent, no device)."""

    exit_code = 4




class StorageError(VisageError):
    """The data folder or database cannot be written or read."""

    exit_code = 5


class NetworkError(VisageError):
    """An online service could not be reached. Trying again later can help."""

    retryable = True
    exit_code = 6


class EngineError(VisageError):
    """An engine failed while working on a turn."""

    exit_code = 7


class Cancelled(VisageError):
    """The work was cancelled on purpose (barge-in, Ctrl-C, Esc)."""

    exit_code = 130
