"""The remote API key, kept in the OS keyring (Secret Service, KWallet, macOS Keychain, Windows Credential
Locker) through ``keyring``. Never in config.toml, never in logs, never in a plain file.

Without a real keyring backend (a headless Linux box, a container) ``set_api_key`` refuses with a
clear error; the key can then be given for one process with the ``VISAGE_SYNC_API_KEY`` environment
variable, which Visage reads but never stores.
"""

from __future__ import annotations

import logging
import os

from app.sync.errors import SecretStoreError

log = logging.getLogger(__name__)

SERVICE = "visage-sync"
ACCOUNT = "api-key"
ENV_VAR = "VISAGE_SYNC_API_KEY"

_NO_KEYRING_HINT = (
    "Install and unlock an OS keyring (e.g. gnome-keyring or KWallet on Linux), or give the key for one run "
    f"with the {ENV_VAR} environment variable; Visage never writes it to a file."
)


def _usable_backend() -> object | None:
    """The keyring backend if it really is an OS keyring; None for the fail/null/plaintext ones."""
    import keyring
    from keyring.backends import chainer, fail

    backend = keyring.get_keyring()
    candidates = list(getattr(backend, "backends", [])) if isinstance(backend, chainer.ChainerBackend) else [backend]
    for candidate in candidates:
        module = type(candidate).__module__
        if isinstance(candidate, fail.Keyring) or "null" in module or "plaintext" in type(candidate).__name__.lower():
            continue
        if module.startswith("keyrings.alt"):  # file-based backends store secrets in (obfuscated) plain files
            continue
        if getattr(candidate, "priority", 1) <= 0:
            continue
        return backend
    return None


def backend_name() -> str | None:
    backend = _usable_backend()
    return None if backend is None else f"{type(backend).__module__}.{type(backend).__name__}"


def set_api_key(key: str) -> str:
    """Store the key in the OS keyring; returns the backend's name. Raises SecretStoreError without one."""
    import keyring
    from keyring.errors import KeyringError

    key = key.strip()
    if not key or any(c.isspace() for c in key):
        raise SecretStoreError("That does not look like an API key.", hint="Paste the key printed by create-key.")
    backend = _usable_backend()
    if backend is None:
        raise SecretStoreError("There is no OS keyring on this computer to keep the API key in.",
                               hint=_NO_KEYRING_HINT)
    try:
        keyring.set_password(SERVICE, ACCOUNT, key)
    except KeyringError as err:
        raise SecretStoreError(f"The keyring refused to store the key: {err}.",
                               hint="Unlock the keyring and try again.") from err
    return f"{type(backend).__module__}.{type(backend).__name__}"


def get_api_key() -> str | None:
    """The key from the environment (one process) or the keyring; None when there is none."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return env
    if _usable_backend() is None:
        return None
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(SERVICE, ACCOUNT)
    except KeyringError as err:
        log.warning("could not read the API key from the keyring: %s", type(err).__name__)
        return None


def delete_api_key() -> bool:
    if _usable_backend() is None:
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


def describe() -> str:
    """Where the key comes from, for `visage sync status` (never the key itself)."""
    if os.environ.get(ENV_VAR, "").strip():
        return f"from the {ENV_VAR} environment variable (this process only)"
    name = backend_name()
    if name is None:
        return "no OS keyring available: " + _NO_KEYRING_HINT
    return f"OS keyring ({name}): {'stored' if get_api_key() else 'not set'}"
