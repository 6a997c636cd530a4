"""The local API's key, kept in the OS keyring like the sync key (``app.sync.credentials``), never in
config.toml, never in logs. ``VISAGE_API_KEY`` gives one for one process (read, never stored).

A key is required as soon as one exists; listening beyond loopback is refused without one.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets

from app.sync.credentials import backend_name
from app.sync.errors import SecretStoreError

log = logging.getLogger(__name__)

SERVICE = "visage-api"
ACCOUNT = "api-key"
ENV_VAR = "VISAGE_API_KEY"
NO_KEYRING_HINT = (
    "Install and unlock an OS keyring (e.g. gnome-keyring or KWallet on Linux), or give the key for one run with "
    f"the {ENV_VAR} environment variable; Visage never writes it to a file."
)


def new_key() -> str:
    return "vsk-" + secrets.token_urlsafe(24)


def set_key(key: str) -> str:
    """Store ``key`` in the OS keyring; returns the backend's name. SecretStoreError without a keyring."""
    import keyring
    from keyring.errors import KeyringError

    key = key.strip()
    if len(key) < 12 or any(c.isspace() for c in key):
        raise SecretStoreError("An API key needs at least 12 characters and no spaces.",
                               hint="Use `visage api-key --generate` for a random one.")
    backend = backend_name()
    if backend is None:
        raise SecretStoreError("There is no OS keyring on this computer to keep the API key in.",
                               hint=NO_KEYRING_HINT)
    try:
        keyring.set_password(SERVICE, ACCOUNT, key)
    except KeyringError as err:
        raise SecretStoreError(f"The keyring refused to store the key: {err}.",
                               hint="Unlock the keyring and try again.") from err
    return backend


def get_key() -> str | None:
    """The key from the environment (this process) or the keyring; None when there is none."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return env
    if backend_name() is None:
        return None
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(SERVICE, ACCOUNT)
    except KeyringError as err:
        log.warning("could not read the local API key from the keyring: %s", type(err).__name__)
        return None


def delete_key() -> bool:
    if backend_name() is None:
        return False
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        keyring.delete_password(SERVICE, ACCOUNT)
        return True
    except PasswordDeleteError:
        return False
    except KeyringError as err:
        raise SecretStoreError(f"The keyring refused to delete the key: {err}.",
                               hint="Unlock the keyring and try again.") from err


def matches(given: str | None, key: str) -> bool:
    """Constant-time comparison of a presented key with the real one."""
    return given is not None and hmac.compare_digest(given.encode("utf-8"), key.encode("utf-8"))
