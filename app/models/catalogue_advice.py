"""What each catalogue entry would be like on this machine: "runs well here", "slow here" or "won't fit",
with the reason in words, and one recommendation per role. Qt-free.

The estimates start from one measurement of THIS machine, the speed probe: the shipped chat model
(SmolLM2-135M) generates 32 tokens after a ~100-token prompt (:func:`measure_probe`, a few seconds; cached).
Without a probe the reference machine's numbers stand in, scaled by the cores and AVX2 (said so in the
reason). From the probe:

- decode speed of another GGUF: decoding reads the whole model once per token, so the time per token grows
  with the file size. Below ~1.2 GB it grows as size^0.53 (fitted to three models measured on the reference
  machine, MODELS.md: SmolLM2-135M 130 tok/s, Qwen2.5-0.5B 53, Qwen2.5-1.5B 39), beyond that in
  proportion to the size (memory-bound);
- first token: prompt reading is compute-bound, ~proportional to 0.8 + parameters in billions (same fit);
- first word heard: the rest of the pipeline (VAD hang-over 0.26 s, ASR 0.61 s and first TTS chunk 0.29 s on
  the reference machine, README), plus the first token, plus ~8 tokens for the first clause;
- speech recognition: the time for a 4 s question, ~0.8 s for whisper base on the reference machine
  (MODELS.md), growing as model.bin's size^0.88 (fitted to tiny.en and base), scaled by the probe.

A GPU changes all of this and is not measured here: with GPU offload the verdict rests on memory alone and the
reason says so. Memory: a model fits when its RAM need plus the app's own ~1.2 GB stays within 75 % of RAM
(the rule :func:`app.core.hardware.affordable_llm` uses).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from app.core.errors import EngineError
from app.core.hardware import APP_OVERHEAD_BYTES, GB, HardwareInfo
from app.models.catalogue import Catalogue, CatalogueEntry
from app.models.manager import ROLES, Role

log = logging.getLogger(__name__)

Verdict = Literal["runs well here", "slow here", "won't fit"]
VERDICTS: tuple[Verdict, ...] = ("runs well here", "slow here", "won't fit")

# -- reference measurements (2-core AMD EPYC VM, no GPU; MODELS.md and the README's voice-latency bench) ----------
REFERENCE_MACHINE = "2-core AMD EPYC VM (AVX2), 24 GB, no GPU"
REFERENCE_DECODE_TOK_S = 130.0
REFERENCE_FIRST_TOKEN_S = 0.076
PROBE_MODEL = "smollm2-135m"
PROBE_PARAMS_B = 0.135
PROBE_FILE_BYTES = 98_362_432
DECODE_EXPONENT = 0.53
MEMORY_BOUND_FROM_BYTES = 1.2e9
PREFILL_OFFSET_B = 0.8
VAD_HANGOVER_S = 0.26
REF_ASR_S = 0.61
REF_TTS_FIRST_CHUNK_S = 0.29
CLAUSE_TOKENS = 8
REF_ASR_BASE_S = 0.8          # whisper base on a 4 s question (padded pass)
ASR_BASE_BYTES = 145_217_532
ASR_EXPONENT = 0.88
REF_TTS_SENTENCE_S = 0.3      # Piper medium, first chunk of a sentence

# -- what counts as good enough for a conversation -----------------------------------------------------------------
FIRST_WORD_GOOD_S = 1.6      # the shipped defaults measure 1.41 s p50 (README); a little more is still a conversation
DECODE_GOOD_TOK_S = 15.0     # several times faster than speech, so the voice never waits for text
ASR_GOOD_S = 1.0
RAM_SHARE = 0.75


@dataclass(frozen=True, slots=True)
class SpeedProbe:
    """One measurement of the shipped chat model on this machine."""

    decode_tok_s: float
    first_token_s: float
    threads: int
    measured: bool = True
    when: str = ""
    model: str = PROBE_MODEL

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def machine_factor(self) -> float:
        """How much faster than the reference machine (1.0 = the same), per the square root of the threads
        (the reference ran 2 threads; speech recognition and synthesis use the other cores too)."""
        return (self.decode_tok_s / max(self.threads, 1) ** 0.5) / (REFERENCE_DECODE_TOK_S / 2 ** 0.5)


@dataclass(frozen=True, slots=True)
class Advice:
    entry: CatalogueEntry
    verdict: Verdict
    reason: str
    decode_tok_s: float | None = None
    first_token_s: float | None = None
    first_word_s: float | None = None
    transcribe_s: float | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {"verdict": self.verdict, "reason": self.reason}
        for key in ("decode_tok_s", "first_token_s", "first_word_s", "transcribe_s"):
            value = getattr(self, key)
            if value is not None:
                out[key] = round(value, 2)
        return out


def assumed_probe(info: HardwareInfo) -> SpeedProbe:
    """Stand-in when the probe has not run: the reference numbers scaled by cores (square root) and AVX2."""
    factor = (max(info.cores, 1) / 2) ** 0.5
    if info.cpu_flags and "avx2" not in info.cpu_flags:
        factor *= 0.5
    return SpeedProbe(REFERENCE_DECODE_TOK_S * factor, REFERENCE_FIRST_TOKEN_S / factor, 2, measured=False)


# -- estimates ------------------------------------------------------------------------------------------------------


def llm_speed(entry: CatalogueEntry, probe: SpeedProbe) -> tuple[float, float, float]:
    """(decode tokens/s, first token s, first word heard s) for a chat model on the probed machine."""
    size = float(entry.size)
    per_token = 1.0 / probe.decode_tok_s
    if size <= MEMORY_BOUND_FROM_BYTES:
        per_token *= (size / PROBE_FILE_BYTES) ** DECODE_EXPONENT
    else:
        per_token *= (MEMORY_BOUND_FROM_BYTES / PROBE_FILE_BYTES) ** DECODE_EXPONENT * size / MEMORY_BOUND_FROM_BYTES
    first_token = probe.first_token_s * (PREFILL_OFFSET_B + entry.params_b) / (PREFILL_OFFSET_B + PROBE_PARAMS_B)
    rest = VAD_HANGOVER_S + (REF_ASR_S + REF_TTS_FIRST_CHUNK_S) / probe.machine_factor
    return 1.0 / per_token, first_token, rest + first_token + CLAUSE_TOKENS * per_token


def asr_seconds(entry: CatalogueEntry, probe: SpeedProbe) -> float:
    """Seconds to transcribe a 4 s question on the probed machine (CPU)."""
    size = entry.main_file.size
    return REF_ASR_BASE_S * (size / ASR_BASE_BYTES) ** ASR_EXPONENT / probe.machine_factor


def _ram_budget(info: HardwareInfo) -> float:
    return (info.ram_total_bytes or 4 * GB) * RAM_SHARE - APP_OVERHEAD_BYTES


def _cpu(info: HardwareInfo) -> str:
    return f"{info.cores}-core CPU" + ("" if not info.cpu_flags or "avx2" in info.cpu_flags else " without AVX2")


def advise(entry: CatalogueEntry, info: HardwareInfo, probe: SpeedProbe | None = None) -> Advice:
    """The verdict for one entry on this machine, with its reason."""
    probe = probe or assumed_probe(info)
    guess = "" if probe.measured else " (estimated from the cores: run the speed probe for a measured figure)"
    need = entry.ram_gb * GB
    budget = _ram_budget(info)
    ram = f"{info.ram_gb:g} GB" if info.ram_gb else "an unknown amount of"
    if need > budget:
        left = max(budget, 0) / GB
        reason = f"needs ~{entry.ram_gb:g} GB plus ~1.2 GB for the app; {ram} RAM leaves {left:.1f} GB"
        return Advice(entry, "won't fit", reason)
    if entry.role == "llm":
        tok_s, first_token, first_word = llm_speed(entry, probe)
        if info.llm_gpu_offload:
            return Advice(entry, "runs well here",
                          f"fits in memory and runs on the GPU ({info.llm_backend}); GPU speed is not measured here",
                          tok_s, first_token, first_word)
        numbers = f"~{first_word:.1f} s to first word, ~{tok_s:.0f} tokens/s on this {_cpu(info)}{guess}"
        if first_word <= FIRST_WORD_GOOD_S and tok_s >= DECODE_GOOD_TOK_S:
            return Advice(entry, "runs well here", numbers, tok_s, first_token, first_word)
        return Advice(entry, "slow here", f"would answer better but take {numbers}", tok_s, first_token, first_word)
    if entry.role == "asr":
        seconds = asr_seconds(entry, probe)
        if info.cuda_devices > 0:
            return Advice(entry, "runs well here", "fits in memory and can run on CUDA; GPU speed is not measured here",
                          transcribe_s=seconds)
        numbers = f"~{seconds:.1f} s to transcribe a 4 s question on this {_cpu(info)}{guess}"
        verdict: Verdict = "runs well here" if seconds <= ASR_GOOD_S else "slow here"
        return Advice(entry, verdict, numbers, transcribe_s=seconds)
    seconds = REF_TTS_SENTENCE_S / probe.machine_factor
    verdict = "runs well here" if seconds <= 1.0 else "slow here"
    return Advice(entry, verdict, f"starts speaking a sentence in ~{seconds:.1f} s here{guess}")


def advise_all(catalogue: Catalogue, info: HardwareInfo, probe: SpeedProbe | None = None) -> list[Advice]:
    return [advise(e, info, probe) for e in catalogue.entries]


def recommend(catalogue: Catalogue, info: HardwareInfo, probe: SpeedProbe | None = None,
              language: str = "en") -> dict[Role, Advice | None]:
    """One entry per role: the most capable one that runs well here (for the language, for speech)."""
    advice = advise_all(catalogue, info, probe)
    out: dict[Role, Advice | None] = {}
    for role in ROLES:
        good = [a for a in advice if a.entry.role == role and a.verdict == "runs well here"]
        if role in ("asr", "tts"):
            good = [a for a in good if a.entry.speaks(language)]
        if role == "asr" and language.startswith("en"):
            english = [a for a in good if "*" not in a.entry.languages]
            good = english or good
        if role == "tts":
            out[role] = good[0] if good else None  # the catalogue lists the preferred voice of a language first
            continue
        out[role] = max(good, key=lambda a: (a.entry.params_b, a.decode_tok_s or 0.0), default=None)
    return out


def next_step(catalogue: Catalogue, info: HardwareInfo, probe: SpeedProbe | None, pick: Advice | None,
              role: Role) -> Advice | None:
    """The smallest model of ``role`` bigger than ``pick`` that is "slow here": what the user gives up."""
    floor = pick.entry.params_b if pick is not None else 0.0
    slower = [a for a in advise_all(catalogue, info, probe)
              if a.entry.role == role and a.verdict == "slow here" and a.entry.params_b > floor]
    return min(slower, key=lambda a: (a.entry.params_b, a.entry.size), default=None)


def why(advice: Advice | None, step: Advice | None = None) -> str:
    text = (f"{advice.entry.name}: {advice.reason}" if advice is not None
            else "nothing in the catalogue runs well here; keep the shipped model")
    if step is not None:
        text += f" ({step.entry.name} {step.reason})"
    return text


# -- the speed probe ------------------------------------------------------------------------------------------------

PROBE_PROMPT = ("You are a helpful assistant named Visage. Keep your answers short. " * 4
                + "Here are three facts about the moon, one per line:\n1.")


def measure_probe(model_path: Path, *, threads: int, tokens: int = 32, runs: int = 2) -> SpeedProbe:
    """Run the shipped chat model: first-token time and decode speed, the best of ``runs`` (other programs
    running at the same time slow single runs down). A few seconds; never on the UI thread."""
    from llama_cpp import Llama

    llm = Llama(model_path=str(model_path), n_ctx=512, n_threads=threads, verbose=False)
    best_first, best_decode = float("inf"), 0.0
    try:
        llm(PROBE_PROMPT, max_tokens=1)  # warm-up: page the weights in
        for _ in range(runs):
            llm.reset()  # forget the evaluated prompt, so the timed run reads it again
            start = decode_start = time.perf_counter()
            first = None
            count = 0
            for _chunk in llm(PROBE_PROMPT, max_tokens=tokens, stream=True, temperature=0.0):
                now = time.perf_counter()
                if first is None:
                    first = now - start
                    decode_start = now
                count += 1
            end = time.perf_counter()
            if first is None or count < 2:
                raise EngineError(f"The speed probe got {count} token(s) from {model_path.name}; it needs two.",
                                  hint="Check the shipped model with `visage doctor`; estimates use the defaults.")
            best_first = min(best_first, first)
            best_decode = max(best_decode, (count - 1) / max(end - decode_start, 1e-6))
    finally:
        llm.close()
    return SpeedProbe(best_decode, best_first, threads, True, time.strftime("%Y-%m-%dT%H:%M:%S"))


def probe_file(data_dir: Path) -> Path:
    return data_dir / "speed_probe.json"


def load_probe(path: Path) -> SpeedProbe | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return SpeedProbe(float(raw["decode_tok_s"]), float(raw["first_token_s"]), int(raw["threads"]),
                          bool(raw.get("measured", True)), str(raw.get("when", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_probe(path: Path, probe: SpeedProbe) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(probe.as_dict()), encoding="utf-8")
    tmp.replace(path)


# -- fixed machines, for the README table and its test ------------------------------------------------------------


def profile(cores: int, ram_gb: float, *, decode_tok_s: float, gpu: bool = False) -> tuple[HardwareInfo, SpeedProbe]:
    info = HardwareInfo(
        os="Linux", machine="x86_64", cores=cores, ram_total_bytes=int(ram_gb * GB), ram_available_bytes=None,
        llm_gpu_offload=gpu, llm_backend="CUDA" if gpu else "cpu", llm_reason="", cuda_devices=1 if gpu else 0,
        asr_reason="", nvidia_driver=gpu, cpu_flags=("avx", "avx2", "fma", "f16c"),
    )
    factor = decode_tok_s / REFERENCE_DECODE_TOK_S
    return info, SpeedProbe(decode_tok_s, REFERENCE_FIRST_TOKEN_S / factor, 2)


#: label -> (cores, RAM GB, probe decode tok/s, GPU). The first is the reference machine as measured; the others'
#: probe speeds are assumptions (what the shipped model typically does on such machines), not measurements.
PROFILES: dict[str, tuple[int, float, float, bool]] = {
    "2 cores, 8 GB, no GPU (probe 130 tok/s, the test VM)": (2, 8, 130.0, False),
    "2 cores, 4 GB, no GPU (probe 90 tok/s)": (2, 4, 90.0, False),
    "4 cores, 16 GB, no GPU (probe 200 tok/s)": (4, 16, 200.0, False),
    "8 cores, 32 GB, no GPU (probe 320 tok/s)": (8, 32, 320.0, False),
    "8 cores, 16 GB, CUDA GPU": (8, 16, 320.0, True),
}
