"""The local API on the real embedded models (the small LLM: these test the API's mechanics), one server for
the whole module set, on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.api.host import OwnEngines
from app.api.server import ApiServer
from app.core.config import LLMSettings, Settings
from tests.model_choice import SMALL_LLM


@pytest.fixture(scope="session")
def api_engines() -> Any:
    from app.core.assembly import build_engines

    settings = Settings(llm=LLMSettings(model=SMALL_LLM))
    return settings, build_engines(settings, roles=("llm", "asr", "tts"))


@pytest.fixture(scope="session")
def api_host(api_engines: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnEngines]:
    settings, engines = api_engines
    host = OwnEngines(engines, settings, Path(tmp_path_factory.mktemp("api-data")))
    yield host
    host.close()


@pytest.fixture(scope="session")
def api_server(api_host: OwnEngines) -> Iterator[ApiServer]:
    with ApiServer(api_host, port=0) as server:
        yield server


@pytest.fixture(scope="session")
def client(api_server: ApiServer) -> Any:
    import openai

    return openai.OpenAI(base_url=api_server.url, api_key="unused-on-loopback", max_retries=0, timeout=120)
