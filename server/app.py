"""The FastAPI application: ``create_app(settings)`` builds one with its storage, cache, metrics and limiter.

Routes (all under ``/v11``; everything but ``health`` needs an ``X-API-Key``):
``GET health`` · ``POST generate`` · ``POST batch-generate`` · ``GET performance-stats`` (admin) ·
``GET cache/stats`` (a key's own; admin: all) · ``POST cache/clear`` (admin) · ``POST analytics/events`` ·
``GET analytics/summary``; and ``GET /metrics`` (Prometheus text format, admin keys only; ``Authorization:
Bearer`` works too). Admin keys: ``python -m server create-key NAME --admin``. Tenants are kept apart: each
key has its own events, rate limit, idempotency keys and response-cache namespace.

On PostgreSQL the rate limits, the response cache, the idempotency keys and (by default) generation are
shared by every worker process on every machine; on SQLite they live in this one process.

Errors are JSON ``{"detail": {"code", "message", "hint"}}`` (422 validation errors: ``detail`` is
the list of problems and ``message`` sums them up). 429 and 503 carry ``Retry-After``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import API_VERSION
from server.cache import Cache, PostgresCache, ResponseCache
from server.db import wait_for_database
from server.generation import (
    GenerationError,
    GenerationService,
    Generator,
    LLMFactory,
    LocalGenerator,
    QueueGenerator,
    default_llm_factory,
)
from server.idempotency import MAX_KEY_CHARS as MAX_IDEMPOTENCY_KEY_CHARS
from server.idempotency import (
    Idempotency,
    IdempotencyConflict,
    IdempotencyPending,
    MemoryIdempotency,
    PostgresIdempotency,
)
from server.metrics import CONTENT_TYPE, Metrics
from server.models import (
    BatchGenerateRequest,
    BatchGenerateResponse,
    BatchItemError,
    BatchItemResult,
    ComponentStatus,
    DayCount,
    ErrorResponse,
    EventsRequest,
    EventsResponse,
    GenerateRequest,
    GenerateResponse,
    HealthResponse,
    LatencyGroup,
    SummaryResponse,
)
from server.ratelimit import Limiter, PostgresRateLimiter, RateLimiter, retry_after_header
from server.settings import ServerSettings
from server.storage import ApiKey, EventRow, Storage, StorageUnavailable

log = logging.getLogger(__name__)

#: longest X-API-Key header looked up at all
MAX_KEY_CHARS = 200
#: most latency groups (client, user) a summary lists, busiest first
MAX_GROUPS = 100


def _error(status: int, code: str, message: str, hint: str | None = None,
           headers: dict[str, str] | None = None) -> HTTPException:
    return HTTPException(status_code=status, detail={"code": code, "message": message, "hint": hint},
                         headers=headers)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, detail={"code": "body_too_large",
                                      "message": f"The request body is larger than {limit} bytes.",
                                      "hint": "Send fewer events or briefs per request."})


class BodyLimitMiddleware:
    """Refuses bodies over ``max_bytes`` (413): by Content-Length up front, else while reading."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = -1
            if declared < 0 or declared > self.max_bytes:
                status = 413 if declared > self.max_bytes else 400
                body = BodyTooLarge(self.max_bytes).detail if status == 413 else {
                    "code": "bad_content_length", "message": "Content-Length is not a number.", "hint": None}
                await JSONResponse({"detail": body}, status_code=status)(scope, receive, send)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited, send)


class MetricsMiddleware:
    """Counts every response by route template and status, with its latency."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", None) or "(unmatched)"
            self.metrics.record(f"{scope.get('method', '?')} {name}", status, time.perf_counter() - started)


_key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                           description="An API key made with `python -m server create-key NAME`.")


def authenticated(request: Request, key: Annotated[str | None, Security(_key_header)]) -> ApiKey:
    """The caller's live API key (401 otherwise), after taking one token from its rate limit (429)."""
    storage: Storage = request.app.state.storage
    limiter: Limiter = request.app.state.limiter
    if not key and request.url.path == "/metrics":  # Prometheus sends a bearer token
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        key = token.strip() if scheme.lower() == "bearer" else None
    hint = "Send the key made with `python -m server create-key NAME` in the X-API-Key header."
    if not key:
        raise _error(401, "missing_api_key", "This endpoint needs an API key.", hint,
                     headers={"WWW-Authenticate": "ApiKey"})
    found = storage.find_key(key) if len(key) <= MAX_KEY_CHARS else None
    if found is None:
        raise _error(401, "invalid_api_key", "The API key is unknown or was revoked.", hint,
                     headers={"WWW-Authenticate": "ApiKey"})
    wait = limiter.acquire(found.id)
    if wait > 0:
        retry = retry_after_header(wait)
        raise _error(429, "rate_limited", f"Too many requests for this key; retry in {retry} s.",
                     "Slow down or ask the operator for a higher limit.", headers={"Retry-After": retry})
    return found


Authed = Annotated[ApiKey, Depends(authenticated)]


def admin(key: Authed) -> ApiKey:
    if not key.is_admin:
        raise _error(403, "admin_only", "This endpoint is for admin keys.",
                     "Use a key made with `python -m server create-key NAME --admin`.")
    return key


Admin = Annotated[ApiKey, Depends(admin)]


def _shared_state(settings: ServerSettings, storage: Storage, llm_factory: LLMFactory | None,
                  clock: Callable[[], float]) -> tuple[Limiter, Cache, Idempotency, Generator]:
    """In this process (SQLite) or in PostgreSQL for every worker (see the module docstring)."""
    wait_s = settings.job_timeout_s + 30
    local = LocalGenerator(llm_factory or default_llm_factory(settings.llm_model, settings.llm_threads),
                           model_name=settings.llm_model, max_waiting=settings.max_waiting)
    if not storage.db.postgres:
        return (RateLimiter(settings.rate_per_minute, settings.rate_burst, clock=clock),
                ResponseCache(settings.cache_entries, settings.cache_ttl_s),
                MemoryIdempotency(settings.idempotency_ttl_s, wait_s=wait_s), local)
    from server.jobs import JobQueue

    generator: Generator = local
    if settings.queue_generation:
        generator = QueueGenerator(JobQueue(storage.db, lease_s=settings.job_lease_s), model_name=settings.llm_model,
                                   max_waiting=settings.max_waiting, timeout_s=settings.job_timeout_s)
    return (PostgresRateLimiter(storage.db, settings.rate_per_minute, settings.rate_burst),
            PostgresCache(storage.db, settings.cache_entries, settings.cache_ttl_s),
            PostgresIdempotency(storage.db, settings.idempotency_ttl_s, wait_s=wait_s, stale_s=wait_s), generator)


def create_app(
    settings: ServerSettings | None = None,
    *,
    storage: Storage | None = None,
    llm_factory: LLMFactory | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> FastAPI:
    """The app (also the uvicorn factory: ``server.app:create_app``, settings from the environment)."""
    settings = settings or ServerSettings.from_env()
    own_storage = storage is None
    if storage is None:
        # a worker process (re)started while the database is away waits for it instead of dying in a loop
        wait_for_database(settings.url, wait_s=settings.db_wait_s)
        storage = Storage(settings.url, pool_size=settings.pool_size)
    metrics = Metrics()
    limiter, cache, idempotency, generator = _shared_state(settings, storage, llm_factory, clock)
    model_name = settings.llm_model
    generation = GenerationService(generator, model_name=model_name, cache=cache)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if own_storage:
            storage.close()

    app = FastAPI(
        title="Visage remote API",
        version=API_VERSION,
        description="Copywriting and usage analytics for Visage. Authenticate with the X-API-Key header.",
        responses={401: {"model": ErrorResponse}, 413: {"model": ErrorResponse}, 429: {"model": ErrorResponse},
                   503: {"model": ErrorResponse}},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.storage = storage
    app.state.metrics = metrics
    app.state.cache = cache
    app.state.generation = generation
    app.state.limiter = limiter
    app.state.idempotency = idempotency

    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["X-API-Key", "Content-Type", "Idempotency-Key"])
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"loc": [p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
             "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        summary = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in problems[:5])
        return JSONResponse({"detail": problems, "message": f"Invalid request: {summary}"}, status_code=422)

    @app.exception_handler(StorageUnavailable)
    async def _storage_down(request: Request, exc: StorageUnavailable) -> JSONResponse:
        log.warning("storage unavailable: %s", exc)
        return JSONResponse(
            {"detail": {"code": "storage_unavailable", "message": "The server's database is unavailable.",
                        "hint": "Try again shortly."}},
            status_code=503, headers={"Retry-After": "2"},
        )

    router = APIRouter(prefix=f"/{API_VERSION}")

    @router.get("/health", response_model=HealthResponse, responses={503: {"model": HealthResponse}})
    def health() -> JSONResponse:
        """Component status (no key needed): database, model, cache. 503 when the database is down."""
        db_ok = storage.ping()
        try:
            llm_ok, llm_detail = generator.status()
        except StorageUnavailable:
            llm_ok, llm_detail = False, f"{model_name}: the job queue is unreachable"
        llm = ComponentStatus(ok=llm_ok, detail=llm_detail)
        # no key is needed here: nothing about other tenants (entry counts) and no internal error text
        cache_detail = "shared in the database" if storage.db.postgres else "in this process"
        body = HealthResponse(
            status="ok" if db_ok else "degraded",
            version=API_VERSION,
            components={
                "database": ComponentStatus(ok=db_ok, detail=storage.backend),
                "llm": llm,
                "cache": ComponentStatus(ok=db_ok, detail=cache_detail),
            },
        )
        return JSONResponse(body.model_dump(), status_code=200 if db_ok else 503)

    def run_one(key: ApiKey, item: GenerateRequest) -> tuple[list[Any], bool]:
        try:
            return generation.generate(key.id, item.brief, n=item.n, voice=item.voice)
        except GenerationError as err:
            raise _error(err.status, err.code, err.message, err.hint,
                         headers={"Retry-After": err.retry_after} if err.retry_after else None) from None

    def once(request: Request, key: ApiKey, route: str, body: Any, run: Callable[[], dict[str, Any]]) -> JSONResponse:
        """``run()`` once per ``Idempotency-Key``: a repeat with the same body gets the first response."""
        idem_key = request.headers.get("idempotency-key")
        if not idem_key:
            return JSONResponse(run())
        if len(idem_key) > MAX_IDEMPOTENCY_KEY_CHARS:
            raise _error(422, "invalid_idempotency_key",
                         f"The Idempotency-Key header is longer than {MAX_IDEMPOTENCY_KEY_CHARS} characters.",
                         "Send a UUID.")
        try:
            claim = idempotency.claim(key.id, route, idem_key, body.model_dump(mode="json"))
        except IdempotencyConflict:
            raise _error(422, "idempotency_key_reused",
                         "This Idempotency-Key was used before with a different request body.",
                         "Send a new Idempotency-Key for a new request.") from None
        except IdempotencyPending:
            raise _error(409, "idempotency_key_in_progress",
                         "The first request with this Idempotency-Key is still running.",
                         "Retry with the same key shortly.", headers={"Retry-After": "5"}) from None
        if claim.replay is not None:
            return JSONResponse(claim.replay, headers={"Idempotent-Replayed": "true"})
        try:
            response = run()
        except BaseException:
            idempotency.release(claim)
            raise
        idempotency.finish(claim, response)
        return JSONResponse(response)

    @router.post("/generate", response_model=GenerateResponse)
    def generate(request: Request, body: GenerateRequest, key: Authed) -> JSONResponse:
        """One brief → ``n`` variants (same structure as the desktop copy studio), best first.

        An ``Idempotency-Key`` header makes a retry return the first answer instead of generating again."""

        def run() -> dict[str, Any]:
            started = time.perf_counter()
            variants, cached = run_one(key, body)
            return GenerateResponse(variants=variants, cached=cached, model=model_name,
                                    seconds=round(time.perf_counter() - started, 3)).model_dump(mode="json")

        return once(request, key, "generate", body, run)

    @router.post("/batch-generate", response_model=BatchGenerateResponse)
    def batch_generate(request: Request, body: BatchGenerateRequest, key: Authed) -> JSONResponse:
        """Several briefs in one request (at most VISAGE_SERVER_MAX_BATCH); each result says ok or why not.

        Honours ``Idempotency-Key`` like ``generate``."""
        if len(body.items) > settings.max_batch:
            raise _error(422, "batch_too_large", f"At most {settings.max_batch} briefs per batch.",
                         "Split the batch into smaller requests.")

        def run() -> dict[str, Any]:
            started = time.perf_counter()
            results: list[BatchItemResult] = []
            for index, item in enumerate(body.items):
                try:
                    variants, cached = run_one(key, item)
                    results.append(BatchItemResult(index=index, ok=True, variants=variants, cached=cached))
                except HTTPException as err:
                    detail = err.detail if isinstance(err.detail, dict) else {"code": "error",
                                                                              "message": str(err.detail)}
                    results.append(BatchItemResult(index=index, ok=False, error=BatchItemError(
                        code=detail["code"], message=detail["message"])))
            return BatchGenerateResponse(results=results, model=model_name,
                                         seconds=round(time.perf_counter() - started, 3)).model_dump(mode="json")

        return once(request, key, "batch-generate", body, run)

    admin_only = {403: {"model": ErrorResponse, "description": "Not an admin key."}}

    @router.get("/performance-stats", responses=admin_only)
    def performance_stats(key: Admin) -> dict[str, Any]:
        """Admin keys only: requests, error rates and latency percentiles (ms) per route since the server
        started (every worker process of this node, from the same numbers as ``/metrics``)."""
        return metrics.snapshot()

    @router.get("/cache/stats")
    def cache_stats(key: Authed) -> dict[str, Any]:
        """Entries, hits, misses and hit rate of the generation response cache: this key's own (an admin key
        sees the whole cache's)."""
        return cache.stats(None if key.is_admin else key.id)

    @router.post("/cache/clear", responses=admin_only)
    def cache_clear(key: Admin) -> dict[str, int]:
        """Admin keys only: empty the generation response cache (every key's); returns how many entries
        were dropped."""
        return {"cleared": cache.clear()}

    @router.post("/analytics/events", response_model=EventsResponse)
    def analytics_events(body: EventsRequest, key: Authed) -> EventsResponse:
        """Store usage events; idempotent by ``event_id`` (a retried batch is never counted twice)."""
        if len(body.events) > settings.max_events:
            raise _error(422, "too_many_events", f"At most {settings.max_events} events per request.",
                         "Send smaller batches.")
        rows = [EventRow(e.event_id, e.kind, e.client_id, e.user_id, e.occurred_at, e.latency_ms, dict(e.props))
                for e in body.events]
        accepted, duplicates = storage.add_events(key.id, rows)
        return EventsResponse(accepted=accepted, duplicates=duplicates)

    @router.get("/analytics/summary", response_model=SummaryResponse)
    def analytics_summary(
        key: Authed,
        days: Annotated[int, Query(ge=1, le=366, description="How many days back, today included.")] = 30,
    ) -> SummaryResponse:
        """Events per day and kind, and latency percentiles per client and user, for this key's events."""
        raw = storage.summary(key.id, days, max_groups=MAX_GROUPS)
        latency = [
            LatencyGroup(client_id=g.client_id, user_id=g.user_id, count=g.count, p50_ms=_r(g.p50_ms),
                         p95_ms=_r(g.p95_ms), p99_ms=_r(g.p99_ms))
            for g in raw["latency"]
        ]
        per_day = [DayCount(day=d, kind=k, count=n) for d, k, n in raw["per_day"]]
        return SummaryResponse(since=raw["since"], days=days, total=sum(x.count for x in per_day),
                               per_day=per_day, latency=latency)

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics(key: Admin) -> Response:
        """Prometheus text format: request counts and latency histograms of every worker of this node."""
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    app.include_router(router)
    return app


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)

