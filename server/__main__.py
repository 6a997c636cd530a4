"""Admin commands for the Visage remote API server: ``python -m server --help``."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import tempfile
import threading
from pathlib import Path

import click
from pydantic import ValidationError

from server.settings import ServerSettings


def _settings(database_url: str | None) -> ServerSettings:
    try:
        return ServerSettings.from_env(database_url=database_url)
    except (ValidationError, ValueError) as err:
        raise click.ClickException(f"Invalid server settings: {err}") from None


def _storage(database_url: str | None):  # type: ignore[no-untyped-def]
    from server.migrations import SchemaOutdated
    from server.storage import Storage, StorageUnavailable

    settings = _settings(database_url)
    try:
        return Storage(settings.url)
    except (StorageUnavailable, ValueError, SchemaOutdated) as err:
        raise click.ClickException(f"{err}\n  → check DATABASE_URL (or --database-url)") from None


def _ready_database(settings: ServerSettings) -> None:
    """Waits for the database (a log line per retry, no crash loop) and refuses an outdated schema."""
    from server.db import Database, StorageUnavailable, backend_of, wait_for_database
    from server.migrations import SchemaOutdated, require_current

    try:
        backend_of(settings.url)
        wait_for_database(settings.url, wait_s=settings.db_wait_s)
        if settings.backend == "postgresql":
            db = Database(settings.url, pool_size=1)
            try:
                require_current(db)
            finally:
                db.close()
    except (StorageUnavailable, ValueError, SchemaOutdated) as err:
        raise click.ClickException(str(err)) from None


_db_option = click.option("--database-url", envvar="DATABASE_URL", default=None,
                          help="sqlite:///PATH (default sqlite:///visage-server.db; one process) or postgresql://…")


@click.group()
def main() -> None:
    """Visage remote API server: migrate its database, run it and its generation workers, manage API keys."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)


@main.command("migrate")
@_db_option
def migrate_command(database_url: str | None) -> None:
    """Create or upgrade the database schema (run once per release; safe to run on several nodes at once)."""
    from server.db import Database, StorageUnavailable, wait_for_database
    from server.migrations import LATEST, migrate

    settings = _settings(database_url)
    try:
        wait_for_database(settings.url, wait_s=settings.db_wait_s)
        db = Database(settings.url, pool_size=2)
        try:
            applied = migrate(db)
        finally:
            db.close()
    except (StorageUnavailable, ValueError) as err:
        raise click.ClickException(f"{err}\n  → check DATABASE_URL (or --database-url)") from None
    if applied:
        click.echo(f"schema migrated to version {LATEST} (applied {', '.join(map(str, applied))})")
    else:
        click.echo(f"schema already at version {LATEST}; nothing to do")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8711, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="API worker processes (more than one needs PostgreSQL).")
@_db_option
def run(host: str, port: int, workers: int, database_url: str | None) -> None:
    """Serve the API with uvicorn (settings from VISAGE_SERVER_* environment variables)."""
    import uvicorn

    settings = _settings(database_url)
    if workers > 1 and settings.backend == "sqlite":
        raise click.ClickException(
            "SQLite serves a single process; --workers needs PostgreSQL.\n"
            "  → set DATABASE_URL=postgresql://… (then `python -m server migrate`), or run with --workers 1")
    _ready_database(settings)
    if database_url:
        os.environ["DATABASE_URL"] = database_url  # the worker processes read their settings from the environment
    if workers > 1 and not settings.queue_generation and not settings.llm_threads:
        # each worker holds a model: share the cores instead of giving every one of them all but one
        os.environ["VISAGE_SERVER_LLM_THREADS"] = str(max(1, (os.cpu_count() or 2) // workers))
    _multiprocess_metrics_dir()
    uvicorn.run("server.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="info", access_log=False)


def _multiprocess_metrics_dir() -> None:
    """prometheus-client's multiprocess mode: one folder per node, emptied at start (its documented contract)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink()
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="visage-metrics-")


@main.command("generate-worker")
@click.option("--name", default=None, help="This worker's name in the queue (default HOST:PID).")
@_db_option
def generate_worker(name: str | None, database_url: str | None) -> None:
    """Hold the LLM and write the briefs that API workers queue in PostgreSQL (run one per model you can afford)."""
    from server.db import Database
    from server.generation import default_llm_factory
    from server.jobs import JobQueue
    from server.worker import GenerationWorker

    settings = _settings(database_url)
    if settings.backend != "postgresql":
        raise click.ClickException("Generation workers take their jobs from PostgreSQL.\n"
                                   "  → set DATABASE_URL=postgresql://… (with SQLite the API process runs the model)")
    _ready_database(settings)
    db = Database(settings.url, pool_size=3)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker = GenerationWorker(JobQueue(db, lease_s=settings.job_lease_s),
                              default_llm_factory(settings.llm_model, settings.llm_threads),
                              name=name or f"{socket.gethostname()}:{os.getpid()}", model_name=settings.llm_model)
    try:
        worker.run(stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        db.close()


@main.command("create-key")
@click.argument("name")
@click.option("--admin", is_flag=True,
              help="An admin key (operators: /metrics, /v11/performance-stats, /v11/cache/clear, all cache stats).")
@_db_option
def create_key(name: str, admin: bool, database_url: str | None) -> None:
    """Create an API key called NAME; prints the key once (only its hash is stored)."""
    storage = _storage(database_url)
    try:
        key, secret = storage.create_key(name, admin=admin)
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    finally:
        storage.close()
    click.echo(secret)
    click.echo(f"key {key.name!r} created (id {key.id}); store it now, it cannot be shown again", err=True)


@main.command("list-keys")
@_db_option
def list_keys(database_url: str | None) -> None:
    """List API keys (name, prefix, created, revoked) without their secrets."""
    storage = _storage(database_url)
    try:
        for key in storage.list_keys():
            state = f"revoked {key.revoked_at}" if key.revoked_at else "active"
            role = "admin" if key.is_admin else "user"
            click.echo(f"{key.id}\t{key.name}\t{key.prefix}…\t{key.created_at}\t{role}\t{state}")
    finally:
        storage.close()


@main.command("revoke-key")
@click.argument("name")
@_db_option
def revoke_key(name: str, database_url: str | None) -> None:
    """Revoke the API key called NAME (requests with it get 401 from then on)."""
    storage = _storage(database_url)
    try:
        if not storage.revoke_key(name):
            raise click.ClickException(f"No active key named {name!r}.")
    finally:
        storage.close()
    click.echo(f"revoked {name!r}")


if __name__ == "__main__":
    main()
