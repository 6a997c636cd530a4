"""Fixtures for the sync client tests: a store in a temp folder, and a live server on loopback
(uvicorn in a thread, SQLite, the fake studio LLM) with an API key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.store import Store
from server.app import create_app
from server.settings import ServerSettings
from server.storage import Storage
from tests.fakes import SchemaLLM
from tests.remote_helpers import live_server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "client" / "visage.db") as opened:
        yield opened


@dataclass
class Live:
    url: str
    key: str
    storage: Storage
    llm: SchemaLLM


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    url = f"sqlite:///{tmp_path}/server.db"
    storage = Storage(url)
    _, key = storage.create_key("client")
    llm = SchemaLLM(phrase="Remote cold brew copy for busy people")
    app = create_app(ServerSettings(database_url=url, rate_per_minute=1e6, rate_burst=10_000), storage=storage,
                     llm_factory=lambda: llm)
    with live_server(app) as base:
        yield Live(base, key, storage, llm)
    storage.close()
