"""Hardware-aware advice: verdicts with reasons, the recommendations the README promises for fixed machines,
and the speed probe on the real shipped model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.models import catalogue as cat_mod
from app.models.catalogue_advice import PROFILES, advise, measure_probe, profile, recommend

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def readme_table() -> dict[str, tuple[str, str, str]]:
    section = README.split("### Which model for which machine", 1)[1].split("\n#", 1)[0]
    rows: dict[str, tuple[str, str, str]] = {}
    for line in section.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("machine", "") or set(cells[0]) <= set("-: "):
            continue
        rows[cells[0]] = (cells[1], cells[2], cells[3])
    return rows


def test_recommendations_for_fixed_machines_are_what_the_readme_says() -> None:
    catalogue = cat_mod.load()
    table = readme_table()
    assert set(table) == set(PROFILES)
    for label, (cores, ram, tok_s, gpu) in PROFILES.items():
        info, probe = profile(cores, ram, decode_tok_s=tok_s, gpu=gpu)
        picks = recommend(catalogue, info, probe)
        got = tuple(picks[role].entry.name if picks[role] else "none" for role in ("llm", "asr", "tts"))
        assert got == table[label], label


def test_reasons_say_why_with_numbers() -> None:
    catalogue = cat_mod.load()
    info, probe = profile(2, 8, decode_tok_s=130.0)
    slow = advise(catalogue.get("qwen2.5-3b-instruct-q4_k_m"), info, probe)
    assert slow.verdict == "slow here"
    assert re.search(r"take ~\d\.\d s to first word, ~\d+ tokens/s on this 2-core CPU", slow.reason), slow.reason
    small = advise(catalogue.get("qwen2.5-0.5b-instruct-q4_k_m"), info, probe)
    assert small.verdict == "runs well here" and small.first_word_s is not None
    assert small.first_word_s < slow.first_word_s  # type: ignore[operator]

    tiny_ram, _ = profile(2, 4, decode_tok_s=90.0)
    big = advise(catalogue.get("llama-3.2-3b-instruct-q8_0"), tiny_ram, probe)
    assert big.verdict == "won't fit" and "4 GB RAM" in big.reason and "needs ~4.1 GB" in big.reason
    whisper = advise(catalogue.get("whisper-large-v3-turbo"), info, probe)
    assert whisper.verdict == "slow here" and "to transcribe a 4 s question" in whisper.reason


def test_more_memory_or_speed_never_makes_a_model_worse() -> None:
    catalogue = cat_mod.load()
    order = {"won't fit": 0, "slow here": 1, "runs well here": 2}
    small_info, small_probe = profile(2, 4, decode_tok_s=90.0)
    big_info, big_probe = profile(8, 32, decode_tok_s=320.0)
    for entry in catalogue.entries:
        before = advise(entry, small_info, small_probe).verdict
        after = advise(entry, big_info, big_probe).verdict
        assert order[after] >= order[before], entry.name


def test_a_gpu_verdict_says_its_speed_is_not_measured() -> None:
    info, probe = profile(8, 16, decode_tok_s=320.0, gpu=True)
    advice = advise(cat_mod.load().get("llama-3.2-3b-instruct-q8_0"), info, probe)
    assert advice.verdict == "runs well here" and "not measured" in advice.reason


@pytest.mark.real_models
def test_the_speed_probe_measures_the_shipped_model() -> None:
    from engines import models as engine_models

    try:
        path = engine_models.resolve_llm("smollm2-135m")
    except Exception as err:
        pytest.skip(f"shipped SmolLM2 not installed: {err}")
    probe = measure_probe(path, threads=1, tokens=8)
    assert probe.measured and probe.decode_tok_s > 0 and probe.first_token_s > 0
