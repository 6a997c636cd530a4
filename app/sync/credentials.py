"""The remote API key, kept in the OS keyring through :mod:`app.core.secret_store`. Never in config.toml,
never in logs, never in a plain file.

Without a real keyring backend (a headless Linux box, a container) ``set_api_key`` refuses with a
clear error; the key can then be given for one process with the ``VISAGE_SYNC_API_KEY`` environment
variable, which Visage reads but never stores.
"""

from __future__ import annotations

import logging

from app.core import secret_store
from app.sync.errors import SecretStoreError

log = logging.getLogger(__name__)

SERVICE = "visage-sync"
ACCOUNT = "api-key"
ENV_VAR = "VISAGE_SYNC_API_KEY"

_NO_KEYRING_HINT = (
    "Install and unlock an OS keyring (e.g. gnome-keyring or KWallet on Linux), or give the key for one run "
    f"with the {ENV_VAR} environment variable; Visage never writes it to a file."
)

_SECRET = secret_store.KeyringSecret(SERVICE, ACCOUNT, ENV_VAR, SecretStoreError, _NO_KEYRING_HINT, "API key", log)


def set_api_key(key: str) -> str:
    """Store the key in the OS keyring; returns the backend's name. Raises SecretStoreError without one."""
    key = key.strip()
    if not key or any(c.isspace() for c in key):
        raise SecretStoreError("That does not look like an API key.", hint="Paste the key printed by create-key.")
    return _SECRET.store(key)


def get_api_key() -> str | None:
    """The key from the environment (one process) or the keyring; None when there is none."""
    return _SECRET.get()


def delete_api_key() -> bool:
    """Remove the stored key; False when there is no keyring or no key."""
    return _SECRET.delete()


def describe() -> str:
    """Where the key comes from, for `visage sync status` (never the key itself)."""
    if _SECRET.from_env():
        return f"from the {ENV_VAR} environment variable (this process only)"
    name = secret_store.backend_name()
    if name is None:
        return "no OS keyring available: " + _NO_KEYRING_HINT
    return f"OS keyring ({name}): {'stored' if get_api_key() else 'not set'}"
