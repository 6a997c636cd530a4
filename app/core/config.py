"""The one settings model. Loaded from TOML, validated, every field documented.

Unknown keys and bad values are rejected with a message naming the key. Secrets (the remote API key)
never live here: they go to the OS keyring (``app.sync``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.core import paths, urls
from app.core.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class LLMSettings(_Section):
    engine: str = Field("llama-cpp", description="LLM engine name (see `visage doctor`).")
    model: str = Field(
        "qwen2.5-coder-1.5b",
        description="A shipped model (qwen2.5-coder-1.5b, qwen2.5-coder-0.5b for small machines, smollm2-135m)"
        " or the path of any chat GGUF file.",
    )
    chat_format: str | None = Field(
        None, description="llama.cpp chat format; empty = use the template embedded in the GGUF."
    )
    n_ctx: int = Field(2048, ge=256, le=131072, description="Context window in tokens.")
    n_threads: int | None = Field(
        None, ge=1, le=256,
        description="CPU threads; empty = all cores for models of 400 MB and more, all but one for smaller ones.",
    )
    n_gpu_layers: int = Field(
        0, ge=-1, description="Layers offloaded to the GPU (-1 = all) when llama.cpp was built with GPU support."
    )
    temperature: float = Field(0.3, ge=0.0, le=2.0, description="Sampling temperature.")
    max_tokens: int = Field(160, ge=1, le=8192, description="Longest reply in tokens.")
    repeat_penalty: float = Field(
        1.1, ge=1.0, le=2.0,
        description="Penalty on repeating recent tokens (1 = none); keeps small models from looping.",
    )
    voice_max_sentences: int = Field(
        4, ge=1, le=50, description="A spoken reply ends after this many sentences (typed replies are not capped)."
    )


class ASRSettings(_Section):
    engine: str = Field("faster-whisper", description="ASR engine name.")
    model: str = Field(
        # still tiny.en: base (trimmed) has the lower word error rate on voices that are not ours
        # (bench/asr_quality.py, 126 clips: 0.179 vs tiny.en padded 0.265) and 34/42 vs 23/42 right answers in
        # bench/conversation_quality.py, but with it the live barge-in tests failed in 3 of 4 idle runs: espeak
        # en-us's "capital of France", said over Visage, heard as "capital and friends" (issue 11, issue 17).
        "tiny.en", description="A shipped model (tiny.en, base) or the path of a faster-whisper model folder."
    )
    language: str | None = Field("en", description="Spoken language code; empty = detect (multilingual models).")
    compute_type: str = Field(
        "float32", description="CTranslate2 compute type. float32 is exact on tiny.en; int8 is faster but worse."
    )
    beam_size: int = Field(1, ge=1, le=10, description="Beam width; 1 = greedy (fastest).")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Where to run the model.")
    cpu_threads: int = Field(
        0, ge=0, le=256, description="CPU threads for CTranslate2; 0 = one per core (CTranslate2's own 0 is 4)."
    )
    trim_padding: bool = Field(
        # off with tiny.en: the trimmed pass heard 'capital on France' for 'of France' where the padded pass is
        # right. (With base the trimmed pass is both better and faster: WER 0.179 vs 0.206, 0.12 s vs 0.67 s.)
        False,
        description="Run Whisper on the utterance's real length instead of a 30 s window (3-4x faster); "
        "falls back to the padded pass when the result looks wrong.",
    )


class TTSSettings(_Section):
    engine: str = Field("piper", description="TTS engine: piper (offline) or edge-tts (online, falls back to piper).")
    voice: str = Field("joe", description="A shipped Piper voice (joe) or the path of a Piper .onnx voice.")
    edge_voice: str = Field("en-US-AriaNeural", description="Voice name used by edge-tts.")
    edge_timeout_s: float = Field(5.0, gt=0, le=60, description="Give up on edge-tts after this many seconds.")
    length_scale: float = Field(1.0, gt=0.2, le=3.0, description="Speaking rate: below 1 is faster.")


class VADSettings(_Section):
    engine: str = Field("silero", description="VAD engine name.")
    threshold: float = Field(0.5, gt=0.0, lt=1.0, description="Speech probability that counts as speech.")
    end_of_turn: Literal["smart-turn", "silence"] = Field(
        "smart-turn",
        description="How Visage decides you have finished: smart-turn (a model listens to how the sentence ends: a"
        " short wait when it is complete, a long one when not) or silence (a fixed min_silence_ms).",
    )
    speculative: bool = Field(
        True, description="Start preparing the answer as soon as you pause (it is played only once your turn ends)."
    )
    pause_ms: int = Field(
        128, ge=32, le=2000,
        description="Silence after which Visage checks whether you have finished (and starts preparing its answer).",
    )
    min_silence_ms: int = Field(
        400, ge=50, le=5000,
        description="Silence that ends your turn with end_of_turn = silence, or when the end-of-turn model is missing.",
    )
    complete_silence_ms: int = Field(
        # 400 = the old fixed rule: a complete-sounding sentence never ends a turn sooner than before
        # ("Stop. What is the weather?" stays one turn); shorter waits need the latency bench on an idle machine
        400, ge=50, le=5000, description="Silence that ends your turn when the end-of-turn model says you are done."
    )
    max_silence_ms: int = Field(
        1000, ge=100, le=10000,
        description="Silence that ends your turn when you seem to be mid-sentence (a pause to think is not cut off).",
    )
    min_speech_ms: int = Field(200, ge=0, le=5000, description="Shorter bursts are ignored as noise.")
    speech_pad_ms: int = Field(200, ge=0, le=2000, description="Audio kept before speech starts.")
    barge_in_ms: int = Field(
        64, ge=32, le=2000, description="Speech needed to stop Visage while it talks (shorter = snappier)."
    )
    barge_in_confirm_ms: int = Field(
        500, ge=0, le=3000,
        description="Speech that makes a stop an interruption. A shorter sound is checked by its words: when it "
        "was not the user (Visage's own echo, a cough) the reply goes on from where it stopped. 0: every sound "
        "that stops Visage interrupts it.",
    )


class AudioSettings(_Section):
    input_device: str | None = Field(None, description="Microphone name or index; empty = system default.")
    output_device: str | None = Field(None, description="Speaker name or index; empty = system default.")


class PersonaSettings(_Section):
    name: str = Field("Visage", description="The assistant's name.")
    system_prompt: str = Field(
        # Plain wording on purpose: small models follow short, concrete instructions best. Replies are spoken:
        # one to three sentences, no lists or markdown, no "As an AI" disclaimers.
        "You are Visage, a friendly voice assistant. Answer in one to three short, plain sentences that sound"
        " natural when read aloud: no lists, no markdown, no code. Give the answer first. Never say that you are"
        " an AI or a language model.",
        description="Instructions given to the LLM at the start of every conversation.",
    )


class UISettings(_Section):
    theme: Literal["system", "light", "dark"] = Field(
        "system", description="Desktop window colours: system (follow the desktop), light or dark."
    )
    first_run_done: bool = Field(
        False, description="The welcome (microphone, speakers, avatar, models) was completed; false shows it again."
    )


class AvatarSettings(_Section):
    renderer: Literal["character", "photo"] = Field(
        "character", description="The avatar: character (the default 2D face) or photo (your portrait)."
    )
    photo_folder: str | None = Field(
        None,
        description="The photo avatar's folder (made by Settings > Avatar > Use my photo, or `visage render"
        " --avatar`); empty = none.",
    )


class SyncSettings(_Section):
    enabled: bool = Field(
        False, description="Talk to a remote Visage API at all (off: nothing leaves this computer)."
    )
    server_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description="Base URL of the remote API, e.g. https://visage.example.com (the API key lives in the keyring;"
        " https only, http just to this computer).",
    )
    share_analytics: bool = Field(
        False, description="Send usage events (counts, timings; never message or draft text) to the server."
    )
    use_remote_copywriting: bool = Field(
        False, description="Draft copy on the server; falls back to the local model with a notice when it fails."
    )
    timeout_s: float = Field(10.0, gt=0, le=300, description="Give up on one request to the server after this long.")
    batch_size: int = Field(100, ge=1, le=500, description="Most analytics events sent in one request.")
    verify_tls: bool = Field(True, description="Check the server's TLS certificate (turn off only for a test server).")

    @field_validator("server_url")
    @classmethod
    def _https_only(cls, value: str | None) -> str | None:
        # the API key goes with every request: never in the clear over a network
        if value is not None and urls.is_plain_http_off_machine(value):
            raise ValueError(f"plain http would send the API key unencrypted: use https:// ({urls.LOOPBACK_HINT})")
        return value


class ApiSettings(_Section):
    enabled: bool = Field(
        False, description="Serve the OpenAI-compatible local API while the window is open (`visage serve` runs it"
        " without the window)."
    )
    port: int = Field(8765, ge=1, le=65535, description="TCP port of the local API (http://127.0.0.1:PORT/v1).")
    network: bool = Field(
        False, description="Also listen on this computer's network addresses (0.0.0.0), not only 127.0.0.1; needs"
        " an API key in the OS keyring (`visage api-key`)."
    )
    max_tokens: int = Field(
        512, ge=1, le=32768,
        description="Longest API reply when a request sets no max_tokens (a voice turn waits at most one API reply).",
    )


class Settings(_Section):
    llm: LLMSettings = Field(default_factory=LLMSettings)
    asr: ASRSettings = Field(default_factory=ASRSettings)
    tts: TTSSettings = Field(default_factory=TTSSettings)
    vad: VADSettings = Field(default_factory=VADSettings)
    audio: AudioSettings = Field(default_factory=AudioSettings)
    persona: PersonaSettings = Field(default_factory=PersonaSettings)
    ui: UISettings = Field(default_factory=UISettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    avatar: AvatarSettings = Field(default_factory=AvatarSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    data_dir: str | None = Field(None, description="Where history and models live; empty = platform default.")


def _describe(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        if e["type"] == "extra_forbidden":
            lines.append(f"unknown setting '{key}'")
        else:
            lines.append(f"'{key}': {e['msg']} (got {e.get('input')!r})")
    return "; ".join(lines)


def from_dict(data: dict[str, Any], *, source: str = "settings") -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as err:
        raise ConfigError(
            f"Invalid {source}: {_describe(err)}",
            hint="Fix or remove that line; `visage config show` prints every valid key with its default.",
        ) from None


def load(path: Path | None = None) -> Settings:
    """Load settings from ``path`` (default: the config file). A missing file means defaults."""
    path = path or paths.config_file()
    if not path.exists():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(
            f"{path} is not valid TOML: {err}", hint="Fix the file or delete it to go back to the defaults."
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"Cannot read {path}: {err}", hint="Check the file's permissions.") from None
    return from_dict(data, source=str(path))


def to_toml(settings: Settings, *, with_docs: bool = True) -> str:
    """Render settings as TOML with each field's description as a comment."""
    out: list[str] = []
    top = settings.model_dump()
    for name, field in Settings.model_fields.items():
        value = top[name]
        if isinstance(value, dict):
            continue
        if with_docs and field.description:
            out.append(f"# {field.description}")
        out.append(_toml_line(name, value))
    for name, field in Settings.model_fields.items():
        value = top[name]
        if not isinstance(value, dict):
            continue
        out.append(f"\n[{name}]")
        section_model = field.annotation
        assert section_model is not None
        for key, sub in section_model.model_fields.items():  # type: ignore[union-attr]
            if with_docs and sub.description:
                out.append(f"# {sub.description}")
            out.append(_toml_line(key, value[key]))
    return "\n".join(out).lstrip() + "\n"


def _toml_line(key: str, value: Any) -> str:
    """One ``key = value`` line, written by tomli-w (quotes, backslashes, newlines and control characters
    escaped as TOML wants them); an unset value becomes a comment, since TOML has no null."""
    if value is None:
        return f"# {key} = (not set)"
    return tomli_w.dumps({key: value}).rstrip("\n")


def save(settings: Settings, path: Path | None = None) -> Path:
    """Write the settings atomically (a crash leaves the old file intact)."""
    path = path or paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(to_toml(settings), encoding="utf-8")
    tmp.replace(path)
    return path
