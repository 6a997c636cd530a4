"""Errors of the avatar engines, as subclasses of the project's ``VisageError`` hierarchy."""

from __future__ import annotations

from engines.errors import ConfigError, EngineError, StorageError


class LipSyncInputError(EngineError):
    """Phoneme timings or audio handed to the viseme track cannot be used (wrong type, order, rate)."""


class AvatarConfigError(ConfigError):
    """An avatar definition (``avatar.toml``) is missing, unreadable or holds a bad value."""


class ClipOutputError(StorageError):
    """A video clip cannot be written where the user asked for it."""


class PhotoError(AvatarConfigError):
    """A photo cannot become a photo avatar. The hint lists the ways out: another photo, placing the
    mouth corners and chin by hand, or the default avatar."""


class NotAnImageError(PhotoError):
    """The file chosen as a photo is missing, unreadable or not an image."""


class NoFaceError(PhotoError):
    """No face was found in the photo."""


class SeveralFacesError(PhotoError):
    """More than one face was found; ``boxes`` holds ``(x, y, w, h)`` of each, largest first."""

    def __init__(self, message: str, *, hint: str | None = None, boxes: list[tuple[int, int, int, int]]) -> None:
        super().__init__(message, hint=hint)
        self.boxes = boxes


class FaceTooSmallError(PhotoError):
    """The face is too small (``face_px`` wide) for a clear mouth."""

    def __init__(self, message: str, *, hint: str | None = None, face_px: int) -> None:
        super().__init__(message, hint=hint)
        self.face_px = face_px
