"""`visage models list|add|download|remove`: the model manager on the command line."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click

from app.core import config as config_mod
from app.models.manager import ROLES, InstalledModel, ModelManager, Role

CONFIG_KEY = {"llm": ("llm", "model"), "asr": ("asr", "model"), "tts": ("tts", "voice")}


def _obj() -> Any:
    return click.get_current_context().find_root().obj


def _in_use(ctx_obj: Any) -> dict[str, str]:
    s = ctx_obj.settings
    return {"llm": s.llm.model, "asr": s.asr.model, "tts": s.tts.voice}


def _use(ctx_obj: Any, model: InstalledModel) -> Path:
    data = ctx_obj.settings.model_dump()
    section, key = CONFIG_KEY[model.role]
    data[section][key] = model.spec
    settings = config_mod.from_dict(data, source="settings")
    return config_mod.save(settings, ctx_obj.config_path)


def _report(ctx_obj: Any, model: InstalledModel, verb: str, use: bool) -> None:
    click.echo(f"{verb} {model.role} '{model.name}': {model.path} ({model.size_bytes / 1e6:,.1f} MB)")
    if use:
        click.echo(f"now in use: {_use(ctx_obj, model)} updated; restart Visage (or reload the models) to switch.")
    else:
        section, key = CONFIG_KEY[model.role]
        click.echo(f'to use it: set [{section}] {key} = "{model.spec}" in config.toml (or pass --use)')


@click.group("models")
def models() -> None:
    """List, add, download and remove the LLM, speech and voice models Visage can use."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def models_list(as_json: bool) -> None:
    """Installed models with role, size, source (shipped / prepared / user) and which are in use."""
    obj = _obj()
    items = ModelManager().list()
    in_use = _in_use(obj)
    if as_json:
        click.echo(json.dumps([{**m.as_dict(), "in_use": in_use[m.role] == m.spec} for m in items], indent=2))
        return
    for role in ROLES:
        click.echo(f"{role}:")
        for m in (m for m in items if m.role == role):
            mark = "*" if in_use[role] == m.spec else " "
            click.echo(f" {mark} {m.name:<28} {m.size_bytes / 1e6:>9,.1f} MB  {m.source:<8}  {m.path}")
    click.echo("(* = in use)")


@models.command("add")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--role", type=click.Choice(ROLES), help="What it is (default: detected from the file).")
@click.option("--name", help="Name to install it under (default: the file or folder name).")
@click.option("--link", is_flag=True, help="Link to the file instead of copying it (it must stay where it is).")
@click.option("--use", "use", is_flag=True, help="Also make it the model in use (writes config.toml).")
def models_add(source: Path, role: Role | None, name: str | None, link: bool, use: bool) -> None:
    """Add a GGUF file, a faster-whisper folder or a Piper .onnx voice from disk (validated, then copied)."""
    model = ModelManager().add(source, role, name=name, link=link)
    _report(_obj(), model, "added", use)


class _Progress:
    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self.last < 0.5 and (total is None or done < total):
            return
        self.last = now
        if total:
            line = f"\r  {done / 1e6:,.1f} / {total / 1e6:,.1f} MB ({100 * done / total:.0f} %)"
            click.echo(line, nl=False, err=True)
        else:
            click.echo(f"\r  {done / 1e6:,.1f} MB", nl=False, err=True)


@models.command("download")
@click.argument("url")
@click.option("--role", type=click.Choice(ROLES), default="llm", show_default=True,
              help="llm: a .gguf file; tts: a Piper .onnx (its .onnx.json is fetched too); asr: an archive.")
@click.option("--sha256", help="Expected sha256 of the file; the download is refused when it differs.")
@click.option("--name", help="File name to save it under (default: from the URL).")
@click.option("--config-url", help="tts only: URL of the voice's .onnx.json (default: URL + '.json').")
@click.option("--use", "use", is_flag=True, help="Also make it the model in use (writes config.toml).")
def models_download(url: str, role: Role, sha256: str | None, name: str | None, config_url: str | None,
                    use: bool) -> None:
    """Download a model (https; resumes an interrupted download, checks space and the sha256; Ctrl-C stops)."""
    cancel = threading.Event()
    previous = signal.getsignal(signal.SIGINT)

    def stop(_sig: int, _frame: Any) -> None:
        cancel.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, stop)
    try:
        model = ModelManager().download(url, role, sha256=sha256, name=name, config_url=config_url,
                                        progress=_Progress() if sys.stderr.isatty() else None, cancel=cancel)
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, previous)
        if sys.stderr.isatty():
            click.echo("", err=True)
    _report(_obj(), model, "downloaded", use)


@models.command("remove")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), help="When the name is ambiguous.")
def models_remove(name: str, role: Role | None) -> None:
    """Delete a model you added or downloaded (shipped models cannot be removed)."""
    obj = _obj()
    manager = ModelManager()
    model = manager.find(name, role)
    in_use = _in_use(obj)[model.role] == model.spec
    removed = manager.remove(name, role)
    click.echo(f"removed {removed.role} '{removed.name}' ({removed.path})")
    if in_use:
        section, key = CONFIG_KEY[removed.role]
        click.secho(f"warning: it was in use; set [{section}] {key} to another model (`visage models list`).",
                    fg="yellow", err=True)


def _add_catalogue_commands() -> None:
    from app.catalogue_cli import catalogue_command, install_command  # imports this module: added last

    models.add_command(catalogue_command)
    models.add_command(install_command)


_add_catalogue_commands()
