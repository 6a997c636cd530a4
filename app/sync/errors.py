"""Errors of the sync client. Retryable ones (network, timeouts, 429, 5xx) are retried with backoff;
permanent ones (401, 403, 413, 422 and other 4xx) stop the worker and are shown to the user."""

from __future__ import annotations

from app.core.errors import NetworkError, VisageError


class SyncRetryable(NetworkError):
    """The server could not take the request now: no network, a timeout, 429 or 5xx. Try again later."""

    def __init__(self, message: str, *, status: int | None = None, retry_after_s: float | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message, hint=hint or "Visage keeps the events and retries on its own.")
        self.status = status
        self.retry_after_s = retry_after_s


class SyncPermanent(VisageError):
    """The server refused the request for good (bad or revoked key, invalid data). Retrying cannot help."""

    exit_code = 6

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class SecretStoreError(VisageError):
    """No OS keyring to keep the API key in (Visage never writes the key to a file)."""

    exit_code = 2
