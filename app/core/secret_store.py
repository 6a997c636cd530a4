"""Secrets in the OS keyring (Secret Service, KWallet, macOS Keychain, Windows Credential Locker). Qt-free.

One implementation for every key Visage keeps: the sync key (:mod:`app.sync.credentials`) and the
local API's key (:mod:`app.api.keys`) are each a :class:`KeyringSecret` with their own keyring service,
environment variable, error class and hint. A secret is never written to config.toml, a log or a plain
file:

- :func:`usable_backend` accepts only a real OS keyring: the fail and null backends, plaintext ones,
  ``keyrings.alt``'s file-based ones (secrets in obfuscated plain files) and any with a priority <= 0
  are refused, so storing raises the caller's error with a hint instead of writing a file;
- the secret's environment variable, when set, gives the secret for one process: read, never stored.

``keyring`` is imported only when a secret is used (it may talk to D-Bus).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from app.core.errors import VisageError


def usable_backend() -> object | None:
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
    """``module.Class`` of the usable OS keyring, or None when there is none."""
    backend = usable_backend()
    return None if backend is None else f"{type(backend).__module__}.{type(backend).__name__}"


@dataclass(frozen=True, slots=True)
class KeyringSecret:
    """One secret: ``service``/``account`` in the OS keyring, or ``env_var`` for one process.

    ``error`` is the class raised when it cannot be stored or deleted (with ``no_keyring_hint`` when
    there is no keyring); ``label`` names it in log lines; ``log`` is the caller's logger."""

    service: str
    account: str
    env_var: str
    error: type[VisageError]
    no_keyring_hint: str
    label: str
    log: logging.Logger

    def from_env(self) -> str | None:
        """The secret from the environment variable (stripped), or None when it is unset or blank."""
        return os.environ.get(self.env_var, "").strip() or None

    def store(self, value: str) -> str:
        """Keep ``value`` (already checked by the caller) in the OS keyring; returns the backend's name."""
        import keyring
        from keyring.errors import KeyringError

        backend = backend_name()
        if backend is None:
            raise self.error("There is no OS keyring on this computer to keep the API key in.",
                             hint=self.no_keyring_hint)
        try:
            keyring.set_password(self.service, self.account, value)
        except KeyringError as err:
            raise self.error(f"The keyring refused to store the key: {err}.",
                             hint="Unlock the keyring and try again.") from err
        return backend

    def get(self) -> str | None:
        """The secret from the environment (this process) or the keyring; None when there is none."""
        env = self.from_env()
        if env:
            return env
        if backend_name() is None:
            return None
        import keyring
        from keyring.errors import KeyringError

        try:
            return keyring.get_password(self.service, self.account)
        except KeyringError as err:
            self.log.warning("could not read the %s from the keyring: %s", self.label, type(err).__name__)
            return None

    def delete(self) -> bool:
        """Remove the secret from the keyring; False when there is no keyring or nothing stored."""
        if backend_name() is None:
            return False
        import keyring
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            keyring.delete_password(self.service, self.account)
            return True
        except PasswordDeleteError:
            return False
        except KeyringError as err:
            raise self.error(f"The keyring refused to delete the key: {err}.",
                             hint="Unlock the keyring and try again.") from err
