"""`visage sync ...`: opt in to the remote API, store the key in the OS keyring, see and flush the outbox."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from app.core import config as config_mod


def _ctx() -> Any:
    """The `visage` CLI context (settings, config path, store) from app.cli."""
    return click.get_current_context().find_root().obj


def _save_sync(ctx: Any, **changes: Any) -> config_mod.Settings:
    settings = ctx.settings
    data = settings.model_dump()
    data["sync"].update(changes)
    updated = config_mod.from_dict(data, source="the new sync settings")
    config_mod.save(updated, ctx.config_path)
    ctx._settings = updated
    return updated


@click.group()
def sync() -> None:
    """Opt-in sync with a remote Visage API: copywriting and usage analytics (off by default)."""


@sync.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def sync_status(as_json: bool) -> None:
    """Show whether sync is on, where the key lives, pending events, the last success and any error."""
    from app.sync import credentials
    from app.sync.worker import STATE_LAST_ERROR, STATE_LAST_SUCCESS, STATE_STOPPED

    ctx = _ctx()
    s = ctx.settings.sync
    with ctx.store() as store:
        box = store.outbox
        info = {
            "enabled": s.enabled,
            "server_url": s.server_url,
            "share_analytics": s.share_analytics,
            "use_remote_copywriting": s.use_remote_copywriting,
            "api_key": credentials.describe(),
            "pending_events": box.count(),
            "last_success": box.get_state(STATE_LAST_SUCCESS),
            "last_error": box.get_state(STATE_LAST_ERROR),
            "stopped": box.get_state(STATE_STOPPED),
        }
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    click.echo(f"sync:              {'on' if s.enabled else 'off'}" + ("" if s.enabled else " (nothing is sent)"))
    click.echo(f"server:            {s.server_url or '(not set)'}")
    click.echo(f"share analytics:   {'yes' if s.share_analytics else 'no'} (never message or draft text)")
    click.echo(f"remote copywriting: {'yes' if s.use_remote_copywriting else 'no'} (local fallback with a notice)")
    click.echo(f"API key:           {info['api_key']}")
    click.echo(f"pending events:    {info['pending_events']}")
    click.echo(f"last success:      {info['last_success'] or 'never'}")
    if info["stopped"]:
        click.secho(f"stopped:           {info['stopped']}", fg="red")
        click.echo("  → fix it (e.g. `visage sync set-key`), then `visage sync flush`")
    elif info["last_error"]:
        click.echo(f"last error:        {info['last_error']} (retrying on its own)")


@sync.command("enable")
@click.option("--url", "server_url", required=True, help="Base URL of the remote API, e.g. https://visage.example.com")
@click.option("--analytics/--no-analytics", default=False, show_default=True,
              help="Share usage events (counts and timings, never text).")
@click.option("--remote-copywriting/--no-remote-copywriting", default=False, show_default=True,
              help="Draft copy on the server (falls back to the local model with a notice).")
def sync_enable(server_url: str, analytics: bool, remote_copywriting: bool) -> None:
    """Turn sync on with a server URL and choose what to share; the key is set with `visage sync set-key`."""
    from app.sync import credentials

    ctx = _ctx()
    updated = _save_sync(ctx, enabled=True, server_url=server_url.rstrip("/"), share_analytics=analytics,
                         use_remote_copywriting=remote_copywriting)
    click.echo(f"sync on: {updated.sync.server_url} (analytics: {'yes' if analytics else 'no'}, "
               f"remote copywriting: {'yes' if remote_copywriting else 'no'}); saved in {ctx.config_path}")
    if credentials.get_api_key() is None:
        click.echo("no API key yet: run `visage sync set-key`")


@sync.command("disable")
@click.option("--discard", is_flag=True, help="Also delete the events still waiting to be sent.")
def sync_disable(discard: bool) -> None:
    """Turn sync off: nothing is sent or queued any more (pending events are kept unless --discard)."""
    ctx = _ctx()
    _save_sync(ctx, enabled=False)
    dropped = 0
    if discard:
        with ctx.store() as store:
            dropped = store.outbox.clear()
    click.echo("sync off" + (f"; discarded {dropped} pending event(s)" if discard else ""))


@sync.command("set-key")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the key from standard input instead of a prompt.")
def sync_set_key(from_stdin: bool) -> None:
    """Store the remote API key in the OS keyring (never in config.toml); refuses if there is no keyring."""
    from app.sync import credentials

    key = sys.stdin.readline() if from_stdin else click.prompt("API key", hide_input=True)
    backend = credentials.set_api_key(key)
    with _ctx().store() as store:
        from app.sync.worker import STATE_STOPPED

        store.outbox.set_state(STATE_STOPPED, None)
    click.echo(f"API key stored in {backend}")


@sync.command("flush")
@click.option("--timeout", "timeout_s", default=60.0, show_default=True, help="Give up after this many seconds.")
def sync_flush(timeout_s: float) -> None:
    """Send every pending event now (clears a stopped state first); prints what is left."""
    from app.sync import make_client
    from app.sync.worker import SyncWorker

    ctx = _ctx()
    s = ctx.settings.sync
    if not (s.enabled and s.server_url):
        raise click.ClickException("sync is off: run `visage sync enable --url …` first")
    with ctx.store() as store:
        worker = SyncWorker(store, lambda: make_client(s), batch_size=s.batch_size, idle_s=0.2)
        worker.resume()
        worker.start()
        try:
            status = worker.flush(timeout_s)
        finally:
            worker.stop()
    click.echo(f"sent {status.sent_this_session}, pending {status.pending}")
    if status.stopped:
        raise click.ClickException(f"stopped: {status.stopped}")
    if status.pending:
        raise click.ClickException(f"{status.pending} event(s) still pending: {status.last_error or 'timed out'}")
