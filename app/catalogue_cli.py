"""`visage models catalogue|install`: the model catalogue on the command line (added to `visage models`)."""

from __future__ import annotations

import json
import signal
import sys
import threading
from typing import Any

import click

from app import models_cli
from app.core import config as config_mod
from app.core.errors import Cancelled
from app.core.hardware import HardwareInfo
from app.models import catalogue as catalogue_mod
from app.models import catalogue_advice as advice_mod
from app.models.catalogue import Catalogue, CatalogueEntry
from app.models.catalogue_install import install, installed
from app.models.manager import ROLES, InstalledModel, ModelManager


def machine(obj: Any, *, run_probe: bool) -> tuple[HardwareInfo, advice_mod.SpeedProbe]:
    """This machine and its speed probe (measured now, loaded from the last run, or assumed)."""
    from app.core import hardware

    settings = obj.settings
    info = hardware.detect(settings.llm.n_gpu_layers, settings.asr.device)
    path = advice_mod.probe_file(obj.data_dir)
    if run_probe:
        from engines import models as engine_models

        threads = settings.llm.n_threads or max(1, info.cores - 1)
        probe = advice_mod.measure_probe(engine_models.resolve_llm(advice_mod.PROBE_MODEL), threads=threads)
        advice_mod.save_probe(path, probe)
        return info, probe
    return info, advice_mod.load_probe(path) or advice_mod.assumed_probe(info)


def _size(entry: CatalogueEntry) -> str:
    return ("" if entry.size_exact else "~") + f"{entry.size / 1e9:.2f} GB"


@click.command("catalogue")
@click.option("--role", type=click.Choice(ROLES), help="Only chat models (llm), recognizers (asr) or voices (tts).")
@click.option("--language", help="Only models for this language code, e.g. de (multilingual ones match any).")
@click.option("--fits", is_flag=True, help="Only what fits this machine's memory.")
@click.option("--probe", "run_probe", is_flag=True,
              help="Measure this machine with the shipped chat model first (a few seconds; remembered).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def catalogue_command(role: str | None, language: str | None, fits: bool, run_probe: bool, as_json: bool) -> None:
    """Models you can install, with what each would be like here: runs well / slow / won't fit, and why."""
    obj = models_cli._obj()
    cat = catalogue_mod.load()
    info, probe = machine(obj, run_probe=run_probe)
    manager = ModelManager()
    lang = language or obj.settings.asr.language or "en"
    rows = []
    for entry in cat.entries:
        if (role and entry.role != role) or (language and not entry.speaks(language)):
            continue
        adv = advice_mod.advise(entry, info, probe)
        if fits and adv.verdict == "won't fit":
            continue
        rows.append((entry, adv, installed(entry, manager) is not None))
    picks = advice_mod.recommend(cat, info, probe, language=lang)
    if as_json:
        click.echo(json.dumps({
            "machine": {"cores": info.cores, "ram_gb": info.ram_gb, "cpu_flags": list(info.cpu_flags),
                        "gpu": info.llm_backend if info.llm_gpu_offload else None, "probe": probe.as_dict()},
            "models": [{**e.as_dict(), **a.as_dict(), "installed": inst} for e, a, inst in rows],
            "recommended": {r: (a.entry.name if a else None) for r, a in picks.items()},
        }, indent=2, ensure_ascii=False))
        return
    measured = (f"measured {probe.decode_tok_s:.0f} tok/s, first token {probe.first_token_s:.2f} s" if probe.measured
                else "not measured yet: `visage models catalogue --probe`")
    click.echo(f"This machine: {info.cores} cores, {info.ram_gb:g} GB RAM, "
               f"{'GPU ' + info.llm_backend if info.llm_gpu_offload else 'no GPU for the LLM'}; "
               f"speed probe {measured}.")
    for r in ROLES:
        block = [(e, a, i) for e, a, i in rows if e.role == r]
        if not block:
            continue
        click.echo(f"\n{r}:")
        for entry, adv, inst in block:
            mark = "*" if inst else " "
            click.echo(f" {mark} {entry.name:<30} {_size(entry):>9}  {adv.verdict:<15} {adv.reason}")
    click.echo("\nRecommended here:")
    for r in ROLES:
        step = advice_mod.next_step(cat, info, probe, picks[r], r)
        click.echo(f"  {r}: {advice_mod.why(picks[r], step)}")
    click.echo("(* = installed; install with `visage models install NAME --use`)")


def use(obj: Any, cat: Catalogue, entry: CatalogueEntry, model: InstalledModel, *, with_language: bool) -> list[str]:
    """Write the settings that switch to ``model``; returns what changed, as lines for the user."""
    data = obj.settings.model_dump()
    fields = cat.settings_for(entry, model.spec, with_language=with_language, current_asr=data["asr"]["model"])
    for dotted, value in fields.items():
        section, key = dotted.split(".")
        data[section][key] = value
    config_mod.save(config_mod.from_dict(data, source="settings"), obj.config_path)
    return [f'[{d.split(".")[0]}] {d.split(".")[1]} = "{v}"' for d, v in fields.items() if v is not None]


@click.command("install")
@click.argument("name")
@click.option("--use", "use_it", is_flag=True, help="Also make it the model in use (writes config.toml).")
@click.option("--with-language", is_flag=True,
              help="For a voice in another language: also set the recognizer's language (multilingual model) and "
                   "a persona line in that language.")
def install_command(name: str, use_it: bool, with_language: bool) -> None:
    """Install a catalogue model by name: https, space checked, resumable (Ctrl-C pauses), every sha256 checked."""
    obj = models_cli._obj()
    cat = catalogue_mod.load()
    entry = cat.get(name)
    manager = ModelManager()
    pause = threading.Event()
    previous = signal.getsignal(signal.SIGINT)
    main = threading.current_thread() is threading.main_thread()
    if main:
        signal.signal(signal.SIGINT, lambda _s, _f: pause.set())
    try:
        model = installed(entry, manager) or install(
            entry, manager, progress=models_cli._Progress() if sys.stderr.isatty() else None, pause=pause)
    except Cancelled:
        raise Cancelled(f"Paused the download of {entry.name}.",
                        hint=f"Run `visage models install {entry.name}` again to resume where it stopped.") from None
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)
        if sys.stderr.isatty():
            click.echo("", err=True)
    click.echo(f"installed {entry.role} '{entry.name}': {model.path} ({model.size_bytes / 1e6:,.1f} MB, "
               f"sha256 checked; licence: {entry.licence})")
    offer = cat.language_offer(entry)
    if use_it:
        for line in use(obj, cat, entry, model, with_language=with_language):
            click.echo(f"set {line}")
        click.echo(f"saved {obj.config_path}; the running app switches when it reloads its models.")
    else:
        section, key = models_cli.CONFIG_KEY[model.role]
        click.echo(f'to use it: `visage models install {entry.name} --use` (sets [{section}] {key})')
    if offer is not None and not (use_it and with_language):
        code, asr_model, persona = offer
        click.echo(f"this voice speaks {cat.languages[code].name}: add --use --with-language to also set "
                   f"[asr] language = \"{code}\" (recognizer '{asr_model}' is multilingual) and the persona "
                   f"line \"{persona}\"")
