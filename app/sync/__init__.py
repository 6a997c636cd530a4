"""Opt-in sync with the remote Visage API (Qt-free). Off by default: nothing leaves the computer.

- ``attach(store, settings)``: the composition root calls this once; with ``[sync] enabled`` and
  ``share_analytics`` it makes the store queue a usage event (no text) with every saved message and
  starts the background worker that sends them (``SyncWorker``). Otherwise it does nothing.
- ``generate_copy``: remote copywriting when ``use_remote_copywriting``, else (or when the server
  fails) the local copy studio, with a notice saying so.
- ``LocalAnalytics``: the numbers a dashboard shows, computed from the local database only.
"""

from __future__ import annotations

from collections.abc import Callable

from app.core.config import SyncSettings
from app.store.db import HasDatabase
from app.store.outbox import Outbox
from app.sync.analytics import LocalAnalytics
from app.sync.client import SyncClient
from app.sync.copywriting import CopyResult, generate_copy
from app.sync.errors import SecretStoreError, SyncPermanent, SyncRetryable
from app.sync.worker import Backoff, SyncStatus, SyncWorker


def make_client(settings: SyncSettings, api_key: str | None = None) -> SyncClient:
    """A client for the configured server with the key from the keyring (or VISAGE_SYNC_API_KEY)."""
    from app.sync.credentials import get_api_key

    if not settings.server_url:
        raise SyncPermanent("No server URL is set for sync.", hint="Run `visage sync enable --url https://…`.")
    return SyncClient(settings.server_url, api_key if api_key is not None else get_api_key(),
                      timeout_s=settings.timeout_s, verify_tls=settings.verify_tls)


def attach(
    store: HasDatabase,
    settings: SyncSettings,
    *,
    client_factory: Callable[[], SyncClient] | None = None,
    on_status: Callable[[SyncStatus], None] | None = None,
) -> SyncWorker | None:
    """Turn usage events on or off for ``store`` and start the sender when analytics sharing is on."""
    share = bool(settings.enabled and settings.share_analytics and settings.server_url)
    Outbox(store).queue_message_events(share)
    if not share:
        return None
    worker = SyncWorker(store, client_factory or (lambda: make_client(settings)), batch_size=settings.batch_size,
                        on_status=on_status)
    worker.start()
    return worker


__all__ = [
    "Backoff",
    "CopyResult",
    "LocalAnalytics",
    "SecretStoreError",
    "SyncClient",
    "SyncPermanent",
    "SyncRetryable",
    "SyncStatus",
    "SyncWorker",
    "attach",
    "generate_copy",
    "make_client",
]
