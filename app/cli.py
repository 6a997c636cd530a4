"""Headless commands. Every command has help text, and every command is documented in the README
(a test checks both). Output for people on stdout; errors on stderr with the fix; `--json` for scripts."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from app import __version__
from app.core import config as config_mod
from app.core import paths
from app.core.errors import VisageError
from app.core.files import write_text_atomic
from app.render_cli import render as render_command
from app.studio.cli import draft, drafts, voice

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)


class Context:
    def __init__(self, data_dir: str | None, config_file: str | None, verbose: int) -> None:
        self.config_path = Path(config_file).expanduser() if config_file else paths.config_file()
        self._settings: config_mod.Settings | None = None
        self._data_dir_option = data_dir
        self.verbose = verbose

    @property
    def settings(self) -> config_mod.Settings:
        if self._settings is None:
            self._settings = config_mod.load(self.config_path)
        return self._settings

    @property
    def data_dir(self) -> Path:
        return paths.data_dir(self._data_dir_option or self.settings.data_dir)

    def store(self) -> Any:
        from app.store import Store

        return Store(paths.database_file(self.data_dir))


pass_ctx = click.make_pass_decorator(Context)


class VisageGroup(click.Group):
    """Turns VisageError into a clear message and its exit code instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except VisageError as err:
            click.secho(f"error: {err.message}", fg="red", err=True)
            if err.hint:
                click.echo(f"  → {err.hint}", err=True)
            ctx.exit(err.exit_code)


@click.group(cls=VisageGroup, invoke_without_command=True)
@click.option("--data-dir", envvar="VISAGE_DATA_DIR", type=click.Path(file_okay=False),
              help="Folder for history and prepared models (default: the platform's user data folder).")
@click.option("--config", "config_file", envvar="VISAGE_CONFIG", type=click.Path(dir_okay=False),
              help="Settings file to use instead of the default config.toml.")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(__version__, prog_name="visage")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None, config_file: str | None, verbose: int) -> None:
    """Visage: a local-first voice assistant with an avatar. Run without a command to start the app."""
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    ctx.obj = Context(data_dir, config_file, verbose)
    if ctx.invoked_subcommand is None:
        ctx.invoke(run)


def _load_engines(ctx: Context, roles: tuple[str, ...]) -> Any:
    from app.core.assembly import build_engines

    def notice(message: str) -> None:
        click.secho(f"notice: {message}", fg="yellow", err=True)

    return build_engines(ctx.settings, roles=roles, on_notice=notice)


def _printer(stream_text: bool) -> Callable[[Any], None]:
    """Notices always go to stderr; with ``stream_text`` the transcript and reply stream to stdout."""
    from app.core.events import Notice, Token, Transcript

    def on_event(event: Any) -> None:
        if isinstance(event, Notice):
            click.secho(f"notice: {event.message}", fg="yellow", err=True)
        elif not stream_text:
            return
        elif isinstance(event, Transcript):
            click.echo(f"you: {event.text.strip()}")
            click.echo("visage: ", nl=False)
        elif isinstance(event, Token):
            click.echo(event.text, nl=False)
            sys.stdout.flush()

    return on_event


def _format_timings(timings: dict[str, float]) -> str:
    order = ["vad_hangover_s", "turn_end_s", "asr_s", "llm_first_token_s", "first_sentence_s", "tts_first_chunk_s",
             "first_audio_s", "reply_done_s", "audio_done_s", "reply_audio_s"]
    names = {"vad_hangover_s": "VAD hang-over", "turn_end_s": "end of turn decided",
             "asr_s": "ASR", "llm_first_token_s": "LLM first token",
             "first_sentence_s": "first sentence", "tts_first_chunk_s": "TTS first chunk",
             "first_audio_s": "end of speech → first audio", "reply_done_s": "reply done",
             "audio_done_s": "audio done", "reply_audio_s": "reply audio length"}
    parts = [f"{names[k]} {timings[k]:.2f}s" for k in order if k in timings]
    return "timings: " + ", ".join(parts)


def _resume(store: Any, conversation: int | None, new: bool) -> tuple[int | None, list[Any]]:
    """Which conversation a turn goes to, with its earlier messages as LLM context."""
    from engines.base import ChatMessage

    if new:
        return None, []
    if conversation is None:
        return None, []
    convo = store.get_conversation(conversation)
    return convo.id, [ChatMessage(m.role, m.text) for m in convo.messages if m.role in ("user", "assistant")]


@cli.command()
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False),
              help="Recording of the question (WAV, FLAC, MP3, OGG).")
@click.option("--output", "output_path", required=True, type=click.Path(dir_okay=False),
              help="Where to write the spoken reply (WAV).")
@click.option("--conversation", type=int, help="Add the turn to this conversation (default: a new one).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_ctx
def talk(ctx: Context, input_path: str, output_path: str, conversation: int | None, as_json: bool) -> None:
    """Voice turns from a file: VAD → transcript → LLM → speech written to OUTPUT. Every turn in the
    recording is answered in order (a pause mid-sentence does not end a turn)."""
    from app.core.audio_io import FileAudioSink, FileAudioSource
    from app.core.pipeline import Pipeline
    from app.core.runner import CoreRunner
    from app.store.memory import MemoryStore

    source = FileAudioSource(input_path)  # validates the file before any model loads
    store = ctx.store()
    conversation_id, history = _resume(store, conversation, new=conversation is None)
    engines = _load_engines(ctx, ("vad", "asr", "llm", "tts", "turn"))
    sink = FileAudioSink()
    pipeline = Pipeline(engines, ctx.settings, store, sink=sink, on_event=_printer(not as_json),
                        conversation_id=conversation_id, history=history, memory=MemoryStore(store))
    with CoreRunner() as runner:
        # every turn in the recording is answered, in order: nothing after a pause is dropped
        results = runner.submit(pipeline.listen(source, barge_in=False)).result()
    pipeline.close()
    if not results:
        raise VisageError(
            f"No speech was found in {input_path}.",
            hint="Check that the recording has someone speaking in it (and is not silent).",
        )
    out = sink.save(output_path)
    audio_s = round(len(sink.audio) / (sink.sample_rate or 1), 3)
    if as_json:
        first = results[0]
        click.echo(json.dumps({
            "conversation_id": pipeline.conversation.id, "turn_id": first.turn_id,
            "transcript": " ".join(t.user_text for t in results),
            "reply": " ".join(t.reply_text for t in results), "output": str(out), "reply_audio_s": audio_s,
            "timings": first.timings,
            "turns": [{"turn_id": t.turn_id, "transcript": t.user_text, "reply": t.reply_text,
                       "timings": t.timings} for t in results],
        }, indent=2))
    else:
        for turn in results:
            click.echo(f"\n{_format_timings(turn.timings)}")
        click.echo(f"reply audio: {out} ({audio_s:.1f}s, {len(results)} turn{'s' if len(results) != 1 else ''})")


@cli.command()
@click.argument("text", required=False)
@click.option("--conversation", type=int, help="Continue this conversation (see `visage history list`).")
@click.option("--continue", "continue_last", is_flag=True, help="Continue the most recent conversation.")
@pass_ctx
def chat(ctx: Context, text: str | None, conversation: int | None, continue_last: bool) -> None:
    """A text conversation. With TEXT, one turn; without, an interactive chat (Ctrl-C stops a reply,
    Ctrl-D or /quit leaves)."""
    from app.core.pipeline import Pipeline
    from app.core.runner import CoreRunner
    from app.store.memory import MemoryStore

    store = ctx.store()
    if continue_last:
        conversation = store.latest_conversation_id()
    conversation_id, history = _resume(store, conversation, new=False)
    engines = _load_engines(ctx, ("llm",))
    pipeline = Pipeline(engines, ctx.settings, store, on_event=_printer(True),
                        conversation_id=conversation_id, history=history, memory=MemoryStore(store))
    with CoreRunner() as runner:
        try:
            if text is not None:
                _chat_turn(runner, pipeline, text)
            else:
                _interactive(runner, pipeline)
        finally:
            pipeline.close()


def _chat_turn(runner: Any, pipeline: Any, text: str) -> None:
    click.echo("visage: ", nl=False)
    future = runner.submit(pipeline.text_turn(text))
    try:
        turn = future.result()
    except KeyboardInterrupt:
        pipeline.interrupt()
        turn = future.result()
    click.echo(" [stopped]" if turn.interrupted else "")


def _interactive(runner: Any, pipeline: Any) -> None:
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history for input())
    click.echo("Visage text chat — Ctrl-C stops a reply, Ctrl-D or /quit leaves.")
    while True:
        try:
            line = input("you: ")
        except EOFError:
            click.echo()
            return
        except KeyboardInterrupt:
            click.echo()
            continue
        if line.strip() in ("/quit", "/exit"):
            return
        if line.strip():
            _chat_turn(runner, pipeline, line)


@cli.group()
def history() -> None:
    """Browse, search and export stored conversations."""


@history.command("list")
@click.option("--limit", default=50, show_default=True, help="How many conversations to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def history_list(ctx: Context, limit: int, as_json: bool) -> None:
    """List conversations, pinned first, then newest."""
    rows = ctx.store().list_conversations(limit=limit)
    if as_json:
        click.echo(json.dumps([_asdict(r) for r in rows], indent=2))
        return
    if not rows:
        click.echo("No conversations yet. Start one with `visage chat` or `visage talk`.")
    for r in rows:
        pin = "*" if r.pinned else " "
        click.echo(f"{pin}{r.id:>5}  {r.updated_at[:16].replace('T', ' ')}  {r.message_count:>3} msgs  {r.title}")


@history.command("show")
@click.argument("conversation_id", type=int)
@pass_ctx
def history_show(ctx: Context, conversation_id: int) -> None:
    """Print one conversation with its messages."""
    convo = ctx.store().get_conversation(conversation_id)
    click.echo(f"# {convo.title}  (#{convo.id}, {convo.created_at[:16].replace('T', ' ')})")
    for m in convo.messages:
        mark = " [cut off: Visage stopped before the reply ended]" if m.incomplete else (
            " [interrupted]" if m.interrupted else "")
        click.echo(f"\n{m.role}{mark}: {m.text}")
        if m.timings:
            click.echo(f"  {_format_timings(m.timings)}")


@history.command("search")
@click.argument("query")
@click.option("--limit", default=20, show_default=True, help="Most hits to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def history_search(ctx: Context, query: str, limit: int, as_json: bool) -> None:
    """Full-text search over every message (voice and text); hits are [highlighted]."""
    hits = ctx.store().search(query, limit=limit)
    if as_json:
        click.echo(json.dumps([_asdict(h) for h in hits], indent=2))
        return
    if not hits:
        click.echo(f"Nothing found for {query!r}.")
    for h in hits:
        click.echo(f"#{h.conversation_id} {h.conversation_title!r} — {h.role}: {h.snippet}")


@history.command("export")
@click.argument("conversation_ids", type=int, nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True,
              help="Markdown for reading, JSON for other programs.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@pass_ctx
def history_export(ctx: Context, conversation_ids: tuple[int, ...], fmt: str, out_path: str | None) -> None:
    """Export conversations (all, or the given IDs) as Markdown or JSON."""
    text = ctx.store().export(list(conversation_ids) or None, fmt)  # type: ignore[arg-type]
    if out_path:
        write_text_atomic(Path(out_path), text)
        click.echo(f"exported to {out_path}", err=True)
    else:
        click.echo(text)


@cli.group()
def memory() -> None:
    """Long-term memory: facts about you that every conversation knows (say "remember that ..." too)."""


def _memory(ctx: Context) -> Any:
    from app.store.memory import MemoryStore

    return MemoryStore(ctx.store())


@memory.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def memory_list(ctx: Context, as_json: bool) -> None:
    """Show the remembered facts with their numbers."""
    facts = _memory(ctx).list()
    if as_json:
        click.echo(json.dumps([_asdict(f) for f in facts], indent=2))
        return
    if not facts:
        click.echo('Nothing remembered yet. Add a fact with `visage memory add "My name is Sam."`.')
    for f in facts:
        click.echo(f"{f.id:>4}  {f.text}" + ("  (you said it)" if f.source == "said" else ""))


@memory.command("add")
@click.argument("text")
@pass_ctx
def memory_add(ctx: Context, text: str) -> None:
    """Remember a fact, e.g. "My name is Sam." (one short sentence)."""
    fact = _memory(ctx).add(text)
    click.echo(f"remembered #{fact.id}: {fact.text}")


@memory.command("edit")
@click.argument("fact_id", type=int)
@click.argument("text")
@pass_ctx
def memory_edit(ctx: Context, fact_id: int, text: str) -> None:
    """Change a remembered fact."""
    fact = _memory(ctx).update(fact_id, text)
    click.echo(f"changed #{fact.id}: {fact.text}")


@memory.command("forget")
@click.argument("fact_id", type=int)
@pass_ctx
def memory_forget(ctx: Context, fact_id: int) -> None:
    """Forget a fact (undo with `visage memory restore`)."""
    fact = _memory(ctx).remove(fact_id)
    click.echo(f"forgot #{fact.id}: {fact.text}  (undo: visage memory restore {fact.id})")


@memory.command("restore")
@click.argument("fact_id", type=int)
@pass_ctx
def memory_restore(ctx: Context, fact_id: int) -> None:
    """Bring back a forgotten fact."""
    fact = _memory(ctx).restore(fact_id)
    click.echo(f"restored #{fact.id}: {fact.text}")


def _asdict(obj: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(obj)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def doctor(ctx: Context, as_json: bool) -> None:
    """Say which engines, models, compute device and audio devices Visage found, and what to fix."""
    from app.core.doctor import as_dicts, run_checks
    from app.models.describe import check_models

    checks = run_checks(ctx.settings, ctx.data_dir, models=check_models(ctx.settings))
    if as_json:
        click.echo(json.dumps(as_dicts(checks), indent=2))
    else:
        colour = {"ok": "green", "warn": "yellow", "error": "red"}
        area = None
        for c in checks:
            if c.area != area:
                area = c.area
                click.echo(f"\n{area}")
            click.echo(f"  {click.style(c.status.upper().ljust(5), fg=colour[c.status])} {c.name}: {c.detail}")
            if c.fix and c.status != "ok":
                click.echo(f"        → {c.fix}")
    if any(c.status == "error" for c in checks):
        sys.exit(1)


@cli.group("config")
def config_group() -> None:
    """Show the settings and where they live."""


@config_group.command("show")
@pass_ctx
def config_show(ctx: Context) -> None:
    """Print every setting with its current value and what it does."""
    click.echo(f"# {ctx.config_path}{'' if ctx.config_path.exists() else ' (not created yet: defaults)'}")
    click.echo(config_mod.to_toml(ctx.settings))


@config_group.command("path")
@pass_ctx
def config_path(ctx: Context) -> None:
    """Print the settings file's path."""
    click.echo(str(ctx.config_path))


@config_group.command("init")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@pass_ctx
def config_init(ctx: Context, force: bool) -> None:
    """Write a settings file holding the defaults, each documented, to edit by hand."""
    if ctx.config_path.exists() and not force:
        raise config_mod.ConfigError(f"{ctx.config_path} already exists.", hint="Use --force to overwrite it.")
    click.echo(str(config_mod.save(config_mod.Settings(), ctx.config_path)))


@cli.command("setup-models")
@pass_ctx
def setup_models(ctx: Context) -> None:
    """Prepare the shipped models once (join split files, patch the voice for lip-sync timings)."""
    from app.models.prepare import prepare_models

    for line in prepare_models(paths.models_dir()):
        click.echo(line)


@cli.command()
@pass_ctx
def run(ctx: Context) -> None:
    """Start Visage: the desktop window when there is a screen, otherwise the text chat."""
    import os

    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or sys.platform in (
        "win32", "darwin") or os.environ.get("QT_QPA_PLATFORM") == "offscreen"
    ui_main = None
    try:
        from app.ui.main import main as ui_main  # type: ignore[no-redef]
    except ImportError:
        ui_main = None
    if ui_main is not None and has_display:
        sys.exit(ui_main(ctx.settings, ctx.data_dir, config_path=ctx.config_path))
    if ui_main is None:
        click.echo("The desktop window is not part of this build yet; starting the text chat.", err=True)
    else:
        click.echo("No display found (DISPLAY/WAYLAND_DISPLAY unset); starting the text chat. "
                   "Run on a desktop session for the window.", err=True)
    click.get_current_context().invoke(chat)


cli.add_command(render_command)  # visage render (avatar video)
cli.add_command(__import__("app.listen_cli", fromlist=["listen"]).listen)  # visage listen (hands-free, terminal)
cli.add_command(draft)  # visage draft (copy studio)
cli.add_command(voice)  # visage voice add|list|show
cli.add_command(drafts)  # visage drafts list|show|star|search|export
cli.add_command(__import__("app.sync.cli", fromlist=["sync"]).sync)  # visage sync (opt-in remote API)
cli.add_command(__import__("app.models_cli", fromlist=["models"]).models)  # visage models (model manager)
cli.add_command(__import__("app.api.cli", fromlist=["serve"]).serve)  # visage serve (local OpenAI-compatible API)
cli.add_command(__import__("app.api.cli", fromlist=["api_key"]).api_key)  # visage api-key


def main() -> None:
    cli(prog_name="visage")


if __name__ == "__main__":
    main()
