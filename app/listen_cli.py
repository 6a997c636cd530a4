"""``visage listen``: a hands-free voice conversation in the terminal, on the real microphone and speakers.

The same :class:`~app.session.session.Session` the window uses (echo handling, barge-in, turn-taking, history),
without a window: say something and Visage answers aloud; talk over it to interrupt. A line typed on stdin is
sent as a text message (its reply is spoken too). With ``--json`` every event is one JSON line on stdout with
a monotonic time stamp ``t`` (the live-audio tests and ``bench/barge_in.py`` read them).

Registered on the main command group in :mod:`app.cli`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import threading
import time
from typing import Any

import click

from app.core.errors import AudioDeviceError


class _Printer:
    """Session notifications and pipeline events → the terminal (text for people, JSON lines for programs)."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self._lock = threading.Lock()

    def emit(self, kind: str, **fields: Any) -> None:
        with self._lock:
            if self.as_json:
                sys.stdout.write(json.dumps({"t": round(time.monotonic(), 4), "kind": kind, **fields}) + "\n")
                sys.stdout.flush()
            else:
                self._human(kind, fields)

    def _human(self, kind: str, fields: dict[str, Any]) -> None:
        if kind == "transcript":
            click.echo(f"\nyou: {fields['text']}")
        elif kind == "finished" and fields.get("reply"):
            click.echo(f"visage: {fields['reply']}" + (" [interrupted]" if fields["interrupted"] else ""))
        elif kind in ("notice", "error", "failed"):
            click.secho(f"{kind}: {fields['message']}", fg="yellow" if kind == "notice" else "red", err=True)
        elif kind == "ready":
            click.echo(f"Listening ({fields['summary']}). Speak, or type a message; Ctrl-C ends.", err=True)


def _pipeline_listener(printer: _Printer, session: Any) -> Any:
    from app.core.events import Notice, ReplyResumed, SpeechChunk, SpeechStarted, Transcript, TurnFinished

    spoken: set[str] = set()

    def on_event(event: Any) -> None:
        if isinstance(event, SpeechStarted):
            printer.emit("speech_started", turn=event.turn_id, offset_s=event.offset_s)
        elif isinstance(event, Transcript):
            printer.emit("transcript", turn=event.turn_id, text=event.text.strip())
        elif isinstance(event, SpeechChunk) and event.turn_id not in spoken:
            spoken.add(event.turn_id)
            printer.emit("first_audio", turn=event.turn_id)
        elif isinstance(event, ReplyResumed):
            printer.emit("resumed", turn=event.turn_id)
        elif isinstance(event, Notice):
            printer.emit("notice", level=event.level, message=event.message)
        elif isinstance(event, TurnFinished):
            gate = session.echo_stats()
            printer.emit(
                "finished", turn=event.turn_id, user=event.user_text, reply=event.reply_text,
                interrupted=event.interrupted, timings=event.timings,
                user_message_id=event.user_message_id, reply_message_id=event.reply_message_id, echo=gate,
            )

    return on_event


async def _converse(ctx: Any, printer: _Printer, max_turns: int | None) -> int:
    from app.session.session import Session

    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    status = {"code": 0}

    def notify(kind: str, payload: Any) -> None:
        if kind == "ready":
            printer.emit("ready", summary=str(payload))
        elif kind == "failed":
            printer.emit("failed", message=str(payload))
            status["code"] = 1
            done.set()
        elif kind == "error":
            printer.emit("error", message=str(payload))
        elif kind == "audio" and not payload[0]:
            printer.emit("failed", message=str(payload[1]))
            status["code"] = AudioDeviceError.exit_code
            done.set()
        elif kind == "state":
            printer.emit("state", state=str(payload))
        elif kind == "hands_free" and not payload:
            done.set()

    session = Session(ctx.settings, ctx.data_dir, notify, config_path=ctx.config_path)
    await session.start()
    ready = asyncio.ensure_future(session.wait_ready())
    await asyncio.wait({ready, asyncio.ensure_future(done.wait())}, return_when=asyncio.FIRST_COMPLETED)
    if done.is_set():
        ready.cancel()
        await session.close()
        return status["code"]
    assert session.pipeline is not None
    session.pipeline.subscribe(_pipeline_listener(printer, session))
    finished = 0

    def count(event: Any) -> None:
        nonlocal finished
        from app.core.events import TurnFinished

        if isinstance(event, TurnFinished) and event.user_text:
            finished += 1
            if max_turns is not None and finished >= max_turns:
                loop.call_soon(done.set)

    session.pipeline.subscribe(count)
    await session.set_hands_free(True)

    def read_stdin() -> None:  # typed messages; the end of stdin does not end the conversation
        for line in sys.stdin:
            if line.strip():
                asyncio.run_coroutine_threadsafe(session.send_text(line.strip()), loop)

    threading.Thread(target=read_stdin, name="visage-stdin", daemon=True).start()
    with contextlib.suppress(NotImplementedError, RuntimeError):  # SIGTERM ends it cleanly (not on Windows)
        loop.add_signal_handler(signal.SIGTERM, done.set)
    try:
        await done.wait()
    finally:
        await session.close()
    return status["code"]


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print every event as a JSON line (for programs).")
@click.option("--max-turns", type=int, help="Stop after answering this many turns.")
@click.option("--input-device", help="Microphone name or index (default: the settings' [audio] input_device).")
@click.option("--output-device", help="Speaker name or index (default: the settings' [audio] output_device).")
@click.pass_context
def listen(
    click_ctx: click.Context, as_json: bool, max_turns: int | None, input_device: str | None,
    output_device: str | None,
) -> None:
    """A hands-free voice conversation on the microphone and speakers (talk over Visage to interrupt)."""
    ctx = click_ctx.obj
    settings = ctx.settings
    if input_device or output_device:
        audio = settings.audio.model_copy(update={
            "input_device": input_device or settings.audio.input_device,
            "output_device": output_device or settings.audio.output_device,
        })
        ctx._settings = settings.model_copy(update={"audio": audio})
    printer = _Printer(as_json)
    try:
        code = asyncio.run(_converse(ctx, printer, max_turns))
    except KeyboardInterrupt:
        code = 0
    click_ctx.exit(code)
