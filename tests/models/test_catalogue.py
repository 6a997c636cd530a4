"""The model catalogue: the shipped file's rules, and installing entries end to end against a loopback server
that serves real model files (the shipped SmolLM2 GGUF and whisper tiny.en folder) under catalogue names."""

from __future__ import annotations

import copy
import hashlib
import threading
import tomllib
from pathlib import Path
from typing import Any

import pytest

from app.core.errors import Cancelled
from app.models import catalogue as cat_mod
from app.models.catalogue import CatalogueError
from app.models.catalogue_install import discard, install, installed, target_path
from app.models.download import ChecksumError
from app.models.manager import ModelManager
from engines import models as engine_models
from tests.models.conftest import ModelServer

RAW = tomllib.loads(cat_mod.CATALOGUE_PATH.read_text(encoding="utf-8"))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def manager(tmp_path: Path) -> ModelManager:
    return ModelManager(tmp_path / "models", timeout_s=10)


# -- the shipped catalogue ------------------------------------------------------------------------------------------


def test_every_shipped_entry_has_https_urls_sizes_checksums_licence_and_sources() -> None:
    catalogue = cat_mod.load()
    roles = {e.role for e in catalogue.entries}
    assert roles == {"llm", "asr", "tts"}
    for entry in catalogue.entries:
        assert entry.licence and entry.good_for and entry.languages and entry.ram_gb > 0, entry.name
        for f in entry.files:
            assert f.url.startswith("https://"), (entry.name, f.name)
            assert len(f.sha256) == 64 and int(f.sha256, 16) >= 0, (entry.name, f.name)
            assert f.size > 0 and len(f.sha256_source) > 20, (entry.name, f.name)
    # multi-file recognizers, and voices in at least 8 languages, each with a persona line in that language
    assert any(len(e.files) >= 4 for e in catalogue.by_role("asr"))
    voice_languages = {e.languages[0] for e in catalogue.by_role("tts")}
    assert len(voice_languages) >= 8
    assert voice_languages <= set(catalogue.languages)


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda m: m["file"][0].pop("sha256"), "'sha256'"),
    (lambda m: m["file"][0].update(sha256="abc123"), "64 hex digits"),
    (lambda m: m["file"][0].pop("sha256_source"), "'sha256_source'"),
    (lambda m: m["file"][0].update(url=m["file"][0]["url"].replace("https://", "http://")), "not an https URL"),
    (lambda m: m["file"][0].update(size=0), "'size'"),
    (lambda m: m.pop("licence"), "'licence'"),
])
def test_an_entry_breaking_a_rule_is_refused_by_name(mutate: Any, expected: str) -> None:
    data = copy.deepcopy(RAW)
    mutate(data["model"][0])
    with pytest.raises(CatalogueError) as err:
        cat_mod.parse(data)
    assert data["model"][0]["name"] in err.value.message and expected in err.value.message


def test_unknown_names_suggest_close_ones() -> None:
    with pytest.raises(Exception) as err:
        cat_mod.load().get("qwen2.5-1.5b")
    assert "qwen2.5-1.5b-instruct-q4_k_m" in str(err.value)


# -- installing against a loopback server -----------------------------------------------------------------------------


def _entry(name: str, role: str, files: list[tuple[str, str, Path]], **extra: Any) -> cat_mod.CatalogueEntry:
    """A catalogue entry (through the real parser) whose files are real files on disk, served by the test."""
    data = {"schema": 1, "model": [{
        "name": name, "role": role, "title": name, "params_b": 0.1, "licence": "test", "languages": ["en"],
        "ram_gb": max(p.stat().st_size for _, _, p in files) / 1e9 + 0.1, "good_for": "a test",
        "file": [{"name": fname, "url": url, "size": p.stat().st_size, "sha256": _sha(p),
                  "sha256_source": "computed by the test from the file it serves"} for fname, url, p in files],
        **extra}]}
    return cat_mod.parse(data).entries[0]


def _serve(server: ModelServer, entry: cat_mod.CatalogueEntry, sources: dict[str, Path]) -> None:
    from urllib.parse import urlsplit

    for f in entry.files:
        server.put(urlsplit(f.url).path, sources[f.name].read_bytes())


def test_a_catalogue_chat_model_installs_end_to_end_and_loads(
        manager: ModelManager, model_server: ModelServer, smollm: Path) -> None:
    real = cat_mod.load().get("qwen2.5-0.5b-instruct-q4_k_m")  # its URL path, served with a real GGUF
    entry = _entry(real.name, "llm", [(real.files[0].name, real.files[0].url, smollm)])
    _serve(model_server, entry, {real.files[0].name: smollm})

    seen: list[tuple[int, int | None]] = []
    model = install(entry, manager, base_url=model_server.base, progress=lambda d, t: seen.append((d, t)))

    assert model.path == target_path(entry, manager) and model.path.read_bytes() == smollm.read_bytes()
    assert seen[-1] == (smollm.stat().st_size, smollm.stat().st_size)
    assert installed(entry, manager) is not None
    assert [m.name for m in manager.user_models("llm")] == [real.name]
    llama_cpp = pytest.importorskip("llama_cpp")
    llm = llama_cpp.Llama(model_path=str(model.path), n_ctx=256, verbose=False)
    text = llm("The capital of France is", max_tokens=4, temperature=0.0)["choices"][0]["text"]
    llm.close()
    assert text.strip()


def test_a_wrong_checksum_is_refused_and_nothing_is_installed(
        manager: ModelManager, model_server: ModelServer, smollm: Path) -> None:
    entry = cat_mod.load().get("qwen2.5-0.5b-instruct-q4_k_m")  # the real sha256; the server sends other bytes
    _serve(model_server, entry, {entry.files[0].name: smollm})
    with pytest.raises(ChecksumError) as err:
        install(entry, manager, base_url=model_server.base)
    assert entry.files[0].sha256 in err.value.message
    assert not target_path(entry, manager).exists() and installed(entry, manager) is None
    assert manager.user_models() == []
    assert not list(manager.downloads_dir.glob("*.part"))


@pytest.fixture(scope="module")
def tiny_en() -> Path:
    try:
        return engine_models.resolve_asr("tiny.en")
    except Exception as err:
        pytest.skip(f"shipped whisper tiny.en not installed: {err}")


def _whisper_entry(folder: Path, name: str = "whisper-tiny.en-test") -> tuple[cat_mod.CatalogueEntry, dict[str, Path]]:
    sources = {p.name: p for p in sorted(folder.iterdir()) if p.is_file()}
    base = "https://huggingface.co/Systran/faster-whisper-tiny.en/resolve/0123abcd/{}"
    entry = _entry(name, "asr", [(n, base.format(n), p) for n, p in sources.items()])
    return entry, sources


def test_a_multi_file_recognizer_installs_atomically(
        manager: ModelManager, model_server: ModelServer, tiny_en: Path) -> None:
    entry, sources = _whisper_entry(tiny_en)
    _serve(model_server, entry, sources)
    last = entry.files[-1]
    from urllib.parse import urlsplit

    model_server.put(urlsplit(last.url).path, b"not the right bytes")  # the last file is damaged on the server

    with pytest.raises(ChecksumError):
        install(entry, manager, base_url=model_server.base)
    target = target_path(entry, manager)
    assert not target.exists() and manager.user_models("asr") == []  # no half recognizer

    # paused half-way: still nothing installed; installing again resumes and fetches only what is missing
    model_server.put(urlsplit(last.url).path, sources[last.name].read_bytes())
    pause = threading.Event()
    calls: list[int] = []

    def pause_after_the_first_block(done: int, _total: int | None) -> None:
        calls.append(done)
        if len(calls) == 2:
            pause.set()

    with pytest.raises(Cancelled):
        install(entry, manager, base_url=model_server.base, pause=pause, progress=pause_after_the_first_block)
    assert not target.exists()
    requests_before = len(model_server.requests)
    model = install(entry, manager, base_url=model_server.base)
    assert model.path == target and sorted(p.name for p in target.iterdir()) == sorted(sources)
    for name, src in sources.items():
        assert _sha(target / name) == _sha(src)
    fetched = model_server.requests[requests_before:]
    assert [path.rsplit("/", 1)[1] for path, _, _ in fetched] == [last.name]  # the checked files were kept
    assert fetched[0][1] is not None  # and the paused one resumed with a Range request
    assert not (manager.downloads_dir / entry.name).exists()
    faster_whisper = pytest.importorskip("faster_whisper")
    faster_whisper.WhisperModel(str(model.path), device="cpu", compute_type="int8", local_files_only=True)


def test_discard_removes_a_paused_download_but_not_other_entries(
        manager: ModelManager, model_server: ModelServer, tiny_en: Path) -> None:
    entry, sources = _whisper_entry(tiny_en, "whisper-small")
    other = manager.downloads_dir / "whisper-small.en"
    other.mkdir(parents=True)
    _serve(model_server, entry, sources)
    pause = threading.Event()
    with pytest.raises(Cancelled):
        install(entry, manager, base_url=model_server.base, pause=pause, progress=lambda d, t: pause.set())
    assert (manager.downloads_dir / "whisper-small").exists()
    discard(entry, manager)
    assert not (manager.downloads_dir / "whisper-small").exists() and other.exists()


@pytest.mark.parametrize(("entry_name", "shipped"), [("whisper-tiny.en", "asr"), ("en_US-joe-medium", "tts")])
def test_pinned_checksums_equal_the_bytes_visage_ships(entry_name: str, shipped: str) -> None:
    """The manifests the catalogue's checksums come from are right where we can check them: on the shipped models."""
    entry = cat_mod.load().get(entry_name)
    try:
        if shipped == "asr":
            folder = engine_models.resolve_asr("tiny.en")
            files = {p.name: p for p in folder.iterdir() if p.is_file()}
        else:
            package, rel = engine_models.SHIPPED_VOICES["joe"]
            onnx = engine_models.package_file(package, rel)
            assert onnx is not None
            files = {onnx.name: onnx, f"{onnx.name}.json": Path(f"{onnx}.json")}
    except Exception as err:
        pytest.skip(f"shipped model not installed: {err}")
    assert {f.name for f in entry.files} <= set(files)
    for f in entry.files:
        assert (_sha(files[f.name]), files[f.name].stat().st_size) == (f.sha256, f.size), f.name


def test_a_catalogue_voice_installs_with_its_config(manager: ModelManager, model_server: ModelServer) -> None:
    package, rel = engine_models.SHIPPED_VOICES["joe"]
    onnx = engine_models.package_file(package, rel)
    if onnx is None or not onnx.is_file():
        pytest.skip("shipped Piper voice not installed")
    real = cat_mod.load().get("en_US-joe-medium")  # the real sha256s: they name exactly the shipped bytes
    _serve(model_server, real, {onnx.name: onnx, f"{onnx.name}.json": Path(f"{onnx}.json")})
    model = install(real, manager, base_url=model_server.base)
    assert model.path == target_path(real, manager) and model.path.read_bytes() == onnx.read_bytes()
    assert Path(f"{model.path}.json").read_bytes() == Path(f"{onnx}.json").read_bytes()
    assert [m.name for m in manager.user_models("tts")] == ["en_US-joe-medium"]
