"""The local API's key, kept in the OS keyring through :mod:`app.core.secret_store` like the sync key
(``app.sync.credentials``), never in config.toml, never in logs. ``VISAGE_API_KEY`` gives one for one
process (read, never stored).

A key is required as soon as one exists; listening beyond loopback is refused without one.
"""

from __future__ import annotations

import hmac
import logging
import secrets

from app.core.secret_store import KeyringSecret
from app.sync.errors import SecretStoreError

log = logging.getLogger(__name__)

SERVICE = "visage-api"
ACCOUNT = "api-key"
ENV_VAR = "VISAGE_API_KEY"
NO_KEYRING_HINT = (
    "Install and unlock an OS keyring (e.g. gnome-keyring or KWallet on Linux), or give the key for one run with "
    f"the {ENV_VAR} environment variable; Visage never writes it to a file."
)

_SECRET = KeyringSecret(SERVICE, ACCOUNT, ENV_VAR, SecretStoreError, NO_KEYRING_HINT, "local API key", log)


def new_key() -> str:
    return "vsk-" + secrets.token_urlsafe(24)


def set_key(key: str) -> str:
    """Store ``key`` in the OS keyring; returns the backend's name. SecretStoreError without a keyring."""
    key = key.strip()
    if len(key) < 12 or any(c.isspace() for c in key):
        raise SecretStoreError("An API key needs at least 12 characters and no spaces.",
                               hint="Use `visage api-key --generate` for a random one.")
    return _SECRET.store(key)


def get_key() -> str | None:
    """The key from the environment (this process) or the keyring; None when there is none."""
    return _SECRET.get()


def delete_key() -> bool:
    """Remove the stored key; False when there is no keyring or no key."""
    return _SECRET.delete()


def matches(given: str | None, key: str) -> bool:
    """Constant-time comparison of a presented key with the real one."""
    return given is not None and hmac.compare_digest(given.encode("utf-8"), key.encode("utf-8"))
