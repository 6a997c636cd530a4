"""Server settings (pydantic-settings): environment variables with the ``VISAGE_SERVER_`` prefix.

The database URL may hold a password, so it is a ``SecretStr`` (never printed, never logged); it is read
from ``DATABASE_URL`` (or ``VISAGE_SERVER_DATABASE_URL``). Generation ``queue``: API workers put jobs in a
PostgreSQL queue that ``python -m server generate-worker`` processes take; ``auto`` = queue on PostgreSQL,
local on SQLite.

| variable | default | meaning |
|---|---|---|
| ``DATABASE_URL`` | ``sqlite:///visage-server.db`` | ``sqlite:///PATH`` (one process) or ``postgresql://user@host/db``|
| ``VISAGE_SERVER_RATE_PER_MINUTE`` | 600 | requests per minute per API key (token bucket; PostgreSQL: all workers) |
| ``VISAGE_SERVER_RATE_BURST`` | 120 | requests a key may make at once before the rate applies |
| ``VISAGE_SERVER_MAX_BODY_BYTES`` | 262144 | larger request bodies are refused with 413 |
| ``VISAGE_SERVER_MAX_EVENTS`` | 500 | most analytics events in one request |
| ``VISAGE_SERVER_MAX_BATCH`` | 4 | most briefs in one batch-generate request |
| ``VISAGE_SERVER_CACHE_ENTRIES`` | 256 | generation responses kept in the cache |
| ``VISAGE_SERVER_CACHE_TTL_S`` | 86400 | a cached response expires after this many seconds |
| ``VISAGE_SERVER_IDEMPOTENCY_TTL_S`` | 86400 | how long an ``Idempotency-Key`` is remembered |
| ``VISAGE_SERVER_LLM_MODEL`` | ``smollm2-135m`` | the server-side GGUF (a shipped name or a path) |
| ``VISAGE_SERVER_LLM_THREADS`` | (all cores but one) | llama.cpp threads of the process that holds the model |
| ``VISAGE_SERVER_CORS_ORIGINS`` | (empty: CORS off) | comma-separated origins allowed to call from a browser |
| ``VISAGE_SERVER_MAX_WAITING`` | 4 | requests waiting for the model (queue: jobs per live worker); more get 503 |
| ``VISAGE_SERVER_GENERATION`` | ``auto`` | ``local`` (this process holds the model), ``queue`` (see below), ``auto`` |
| ``VISAGE_SERVER_JOB_LEASE_S`` | 30 | a generation worker's lease on a job; a killed worker's job is taken again |
| ``VISAGE_SERVER_JOB_TIMEOUT_S`` | 300 | how long an API worker waits for a queued job's result before answering 503 |
| ``VISAGE_SERVER_POOL_SIZE`` | 8 | most PostgreSQL connections per process (psycopg_pool) |
| ``VISAGE_SERVER_DB_WAIT_S`` | 0 | at start, how long to retry an unreachable database (0: keep retrying) |
"""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class ServerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VISAGE_SERVER_", extra="forbid", frozen=True,
                                      populate_by_name=True)

    database_url: SecretStr = Field(SecretStr("sqlite:///visage-server.db"),
                                    validation_alias=AliasChoices("database_url", "DATABASE_URL",
                                                                  "VISAGE_SERVER_DATABASE_URL"))
    rate_per_minute: float = Field(600.0, gt=0)
    rate_burst: int = Field(120, ge=1)
    max_body_bytes: int = Field(256 * 1024, ge=1024)
    max_events: int = Field(500, ge=1, le=10_000)
    max_batch: int = Field(4, ge=1, le=64)
    cache_entries: int = Field(256, ge=0)
    cache_ttl_s: float = Field(86_400.0, gt=0)
    idempotency_ttl_s: float = Field(86_400.0, gt=0)
    llm_model: str = "smollm2-135m"
    llm_threads: int | None = Field(None, ge=1)
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    max_waiting: int = Field(4, ge=0)
    generation: Literal["auto", "local", "queue"] = "auto"
    job_lease_s: float = Field(30.0, ge=1)
    job_timeout_s: float = Field(300.0, ge=1)
    pool_size: int = Field(8, ge=1, le=200)
    db_wait_s: float = Field(0.0, ge=0)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(o.strip() for o in value.split(",") if o.strip())
        return value

    @property
    def url(self) -> str:
        """The database URL in clear (for the driver only: never log it)."""
        return self.database_url.get_secret_value()

    @property
    def backend(self) -> str:
        return "sqlite" if self.url.startswith("sqlite:") else "postgresql"

    @property
    def queue_generation(self) -> bool:
        """True when generation jobs go through the PostgreSQL queue to ``generate-worker`` processes."""
        if self.generation == "auto":
            return self.backend == "postgresql"
        return self.generation == "queue"

    @classmethod
    def from_env(cls, **overrides: object) -> ServerSettings:
        """The environment's settings, with the non-None ``overrides`` (command-line options) on top.

        A ``VISAGE_SERVER_*`` variable that is no setting (a typo) is an error, not silently ignored."""
        known = {f"VISAGE_SERVER_{name.upper()}" for name in cls.model_fields}
        unknown = sorted(k for k in os.environ if k.startswith("VISAGE_SERVER_") and k not in known)
        if unknown:
            raise ValueError(f"Unknown server setting(s) {', '.join(unknown)}; the settings are "
                             f"{', '.join(sorted(known))} (see server/settings.py).")
        return cls(**{k: v for k, v in overrides.items() if v is not None})
