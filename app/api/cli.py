"""`visage serve` (the local OpenAI-compatible API without the window) and `visage api-key`."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import click


@click.command("serve")
@click.option("--host", "bind_host", default=None,
              help="Address to listen on (default 127.0.0.1; [api] network = true means 0.0.0.0, which needs a key).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="TCP port (default: [api] port, 8765).")
@click.pass_obj
def serve(ctx: Any, bind_host: str | None, port: int | None) -> None:
    """Serve the local models as an OpenAI-compatible API (chat, transcriptions, speech) until Ctrl-C."""
    from app.api.host import OwnEngines
    from app.api.keys import get_key
    from app.api.server import LOOPBACK, NETWORK, ApiServer, check_bind
    from app.core.assembly import build_engines

    settings = ctx.settings
    bind_host = bind_host or (NETWORK if settings.api.network else LOOPBACK)
    key = get_key()
    check_bind(bind_host, key)  # before minutes of model loading

    def notice(message: str) -> None:
        click.secho(f"notice: {message}", fg="yellow", err=True)

    engines = build_engines(settings, roles=("llm", "asr", "tts"), on_notice=notice)
    host = OwnEngines(engines, settings, ctx.data_dir)
    server = ApiServer(host, bind_host=bind_host, port=port or settings.api.port, key=key)
    auth = "an API key is required (Authorization: Bearer …)" if key else "no API key (loopback only)"
    click.echo(f"Visage local API on {server.url} — {auth}. Ctrl-C stops it.", err=True)
    try:
        asyncio.run(server.serve())
    except KeyboardInterrupt:
        pass
    finally:
        host.close()


@click.command("api-key")
@click.option("--generate", is_flag=True, help="Make a random key, store it and print it once.")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the key from standard input.")
@click.option("--delete", is_flag=True, help="Remove the stored key (the API is then loopback-only again).")
def api_key(generate: bool, from_stdin: bool, delete: bool) -> None:
    """Store the local API's key in the OS keyring (prompt, --stdin or --generate); refused without a keyring."""
    from app.api import keys

    if delete:
        click.echo("Key deleted." if keys.delete_key() else "There was no key stored.")
        return
    if generate:
        key = keys.new_key()
    elif from_stdin:
        key = sys.stdin.readline().strip()
    else:
        key = click.prompt("API key", hide_input=True, confirmation_prompt=True)
    backend = keys.set_key(key)
    click.echo(f"Key stored in the OS keyring ({backend}). Clients send it as `Authorization: Bearer KEY`.")
    if generate:
        click.echo(key)
