"""Server settings, read from environment variables (a deployment sets them; nothing secret lives here).

| variable | default | meaning |
|---|---|---|
| ``DATABASE_URL`` | ``sqlite:///visage-server.db`` | ``sqlite:///PATH`` or ``postgresql://user@host/db`` |
| ``VISAGE_SERVER_RATE_PER_MINUTE`` | 600 | requests per minute per API key (token bucket) |
| ``VISAGE_SERVER_RATE_BURST`` | 120 | requests a key may make at once before the rate applies |
| ``VISAGE_SERVER_MAX_BODY_BYTES`` | 262144 | larger request bodies are refused with 413 |
| ``VISAGE_SERVER_MAX_EVENTS`` | 500 | most analytics events in one request |
| ``VISAGE_SERVER_MAX_BATCH`` | 4 | most briefs in one batch-generate request |
| ``VISAGE_SERVER_CACHE_ENTRIES`` | 256 | generation responses kept in the cache |
| ``VISAGE_SERVER_LLM_MODEL`` | ``smollm2-135m`` | the server-side GGUF (a shipped name or a path) |
| ``VISAGE_SERVER_LLM_THREADS`` | (all cores but one) | llama.cpp threads |
| ``VISAGE_SERVER_CORS_ORIGINS`` | (empty: CORS off) | comma-separated origins allowed to call from a browser |
| ``VISAGE_SERVER_MAX_WAITING`` | 4 | generation requests that may wait for the model; more get 503 |
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field


class ServerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str = "sqlite:///visage-server.db"
    rate_per_minute: float = Field(600.0, gt=0)
    rate_burst: int = Field(120, ge=1)
    max_body_bytes: int = Field(256 * 1024, ge=1024)
    max_events: int = Field(500, ge=1, le=10_000)
    max_batch: int = Field(4, ge=1, le=64)
    cache_entries: int = Field(256, ge=0)
    llm_model: str = "smollm2-135m"
    llm_threads: int | None = Field(None, ge=1)
    cors_origins: tuple[str, ...] = ()
    max_waiting: int = Field(4, ge=0)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> ServerSettings:
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        names = {
            "database_url": "DATABASE_URL",
            "rate_per_minute": "VISAGE_SERVER_RATE_PER_MINUTE",
            "rate_burst": "VISAGE_SERVER_RATE_BURST",
            "max_body_bytes": "VISAGE_SERVER_MAX_BODY_BYTES",
            "max_events": "VISAGE_SERVER_MAX_EVENTS",
            "max_batch": "VISAGE_SERVER_MAX_BATCH",
            "cache_entries": "VISAGE_SERVER_CACHE_ENTRIES",
            "llm_model": "VISAGE_SERVER_LLM_MODEL",
            "llm_threads": "VISAGE_SERVER_LLM_THREADS",
            "max_waiting": "VISAGE_SERVER_MAX_WAITING",
        }
        for field, var in names.items():
            if env.get(var):
                values[field] = env[var]
        if env.get("VISAGE_SERVER_CORS_ORIGINS"):
            values["cors_origins"] = tuple(o.strip() for o in env["VISAGE_SERVER_CORS_ORIGINS"].split(",") if o.strip())
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
