"""Admin commands for the Visage remote API server: ``python -m server --help``."""

from __future__ import annotations

import logging
import sys

import click

from server.settings import ServerSettings


def _storage(database_url: str | None):  # type: ignore[no-untyped-def]
    from server.storage import Storage, StorageUnavailable

    settings = ServerSettings.from_env(database_url=database_url)
    try:
        return Storage(settings.database_url)
    except (StorageUnavailable, ValueError) as err:
        raise click.ClickException(f"{err}\n  → check DATABASE_URL (or --database-url)") from None


_db_option = click.option("--database-url", envvar="DATABASE_URL", default=None,
                          help="sqlite:///PATH (default sqlite:///visage-server.db) or postgresql://…")


@click.group()
def main() -> None:
    """Visage remote API server: run it, and manage its API keys."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8711, show_default=True, type=int, help="Port to listen on.")
@_db_option
def run(host: str, port: int, database_url: str | None) -> None:
    """Serve the API with uvicorn (settings from VISAGE_SERVER_* environment variables)."""
    import uvicorn

    from server.app import create_app

    settings = ServerSettings.from_env(database_url=database_url)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", access_log=False)


@main.command("create-key")
@click.argument("name")
@_db_option
def create_key(name: str, database_url: str | None) -> None:
    """Create an API key called NAME; prints the key once (only its hash is stored)."""
    storage = _storage(database_url)
    try:
        key, secret = storage.create_key(name)
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
            click.echo(f"{key.id}\t{key.name}\t{key.prefix}…\t{key.created_at}\t{state}")
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
