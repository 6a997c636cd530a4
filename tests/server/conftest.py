"""Fixtures for the server tests: storage on both backends (SQLite in a temp dir; PostgreSQL started by
the tests on loopback: the ``postgres`` fixture in tests/conftest.py), an app with a fake studio LLM, a
TestClient and an API key."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.settings import ServerSettings
from server.storage import Storage
from tests.fakes import SchemaLLM
from tests.remote_helpers import PostgresCluster

_db_numbers = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/server.db"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return cluster.migrated_database(f"t{next(_db_numbers)}")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/server.db"


class Server:
    """An app, its storage, a TestClient, one valid key (``auth``) and one admin key (``admin``)."""

    def __init__(self, url: str, llm: SchemaLLM, **settings: Any) -> None:
        # the model in this process (the fake LLM); the PostgreSQL job queue has tests of its own
        self.settings = ServerSettings(database_url=url, **{"generation": "local", **settings})
        self.storage = Storage(url)
        self.llm = llm
        self.app = create_app(self.settings, storage=self.storage, llm_factory=lambda: llm)
        self.client = TestClient(self.app)
        self.key_name = f"test-{uuid.uuid4().hex[:8]}"
        _, self.key = self.storage.create_key(self.key_name)
        self.auth = {"X-API-Key": self.key}
        _, admin_key = self.storage.create_key(f"admin-{uuid.uuid4().hex[:8]}", admin=True)
        self.admin = {"X-API-Key": admin_key}

    def close(self) -> None:
        self.client.close()
        self.storage.close()


@pytest.fixture
def make_server(database_url: str) -> Iterator[Callable[..., Server]]:
    made: list[Server] = []

    def make(llm: SchemaLLM | None = None, **settings: Any) -> Server:
        server = Server(database_url, llm or SchemaLLM(), **settings)
        made.append(server)
        return server

    yield make
    for server in made:
        server.close()


@pytest.fixture
def server(make_server: Callable[..., Server]) -> Server:
    return make_server()
