"""The API key lives in the OS keyring only: refused (not written anywhere) when there is no keyring."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from app.sync import credentials
from app.sync.errors import SecretStoreError

SECRET = "vsk_test_secret_value_123"


class MemoryKeyring(KeyringBackend):
    """Stands in for an OS keyring (Secret Service, Keychain...) in tests."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if (service, username) not in self.items:
            raise PasswordDeleteError("not there")
        del self.items[(service, username)]


@pytest.fixture
def restore_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(credentials.ENV_VAR, raising=False)
    before = keyring.get_keyring()
    yield
    keyring.set_keyring(before)


def test_without_a_keyring_the_key_is_refused_and_never_written(restore_keyring: None, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    keyring.set_keyring(fail.Keyring())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(SecretStoreError) as err:
        credentials.set_api_key(SECRET)
    assert "keyring" in err.value.message and credentials.ENV_VAR in (err.value.hint or "")
    assert credentials.get_api_key() is None
    for path in tmp_path.rglob("*"):
        assert not path.is_file() or SECRET not in path.read_text(errors="ignore")
    assert "no OS keyring" in credentials.describe()


def test_with_a_keyring_the_key_round_trips(restore_keyring: None) -> None:
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    assert credentials.set_api_key(f"  {SECRET}\n").endswith("MemoryKeyring")
    assert ring.items == {(credentials.SERVICE, credentials.ACCOUNT): SECRET}
    assert credentials.get_api_key() == SECRET
    assert SECRET not in credentials.describe()
    assert credentials.delete_api_key() and credentials.get_api_key() is None
    with pytest.raises(SecretStoreError):
        credentials.set_api_key("two words")


def test_the_environment_variable_is_read_but_never_stored(restore_keyring: None,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    monkeypatch.setenv(credentials.ENV_VAR, SECRET)
    assert credentials.get_api_key() == SECRET
    assert ring.items == {}
    assert "environment variable" in credentials.describe() and SECRET not in credentials.describe()


def test_the_local_api_key_shares_the_keyring_rules_but_keeps_its_own_entry_and_messages(
        restore_keyring: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.api import keys

    monkeypatch.delenv(keys.ENV_VAR, raising=False)
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    credentials.set_api_key(SECRET)
    assert keys.set_key("vsk-local-key-1234").endswith("MemoryKeyring")
    assert ring.items == {(credentials.SERVICE, credentials.ACCOUNT): SECRET,
                          (keys.SERVICE, keys.ACCOUNT): "vsk-local-key-1234"}
    assert keys.get_key() == "vsk-local-key-1234" and credentials.get_api_key() == SECRET
    with pytest.raises(SecretStoreError) as err:
        keys.set_key("short")
    assert "12 characters" in err.value.message
    assert keys.delete_key() and not keys.delete_key() and credentials.get_api_key() == SECRET
    keyring.set_keyring(fail.Keyring())
    with pytest.raises(SecretStoreError) as err:
        keys.set_key("vsk-local-key-1234")
    assert keys.ENV_VAR in (err.value.hint or "") and keys.get_key() is None and not keys.delete_key()
