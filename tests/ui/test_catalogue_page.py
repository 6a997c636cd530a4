"""Settings › Models › Catalogue: filters, install with progress from a loopback server, pause, resume,
cancel, and "Use it" filling the settings dialog."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.core.config import Settings
from app.models import catalogue as cat_mod
from app.models import catalogue_install as install_mod
from app.models.catalogue_advice import profile
from app.models.manager import ModelManager
from app.ui import catalogue_page
from app.ui.catalogue_page import CatalogueDialog
from tests.models import conftest as model_fixtures
from tests.models.conftest import ModelServer, catalogue_with_chat_file

model_server = model_fixtures.model_server  # the loopback server and the shipped GGUF, as fixtures here too
smollm = model_fixtures.smollm


def _names(dialog: CatalogueDialog) -> list[str]:
    return [e.name for e in dialog.rows]


def test_filters_and_verdicts(qtbot: Any, tmp_path: Path, smollm: Path) -> None:
    info, probe = profile(2, 4, decode_tok_s=90.0)
    dialog = CatalogueDialog(manager=ModelManager(tmp_path / "models"), catalogue=catalogue_with_chat_file(smollm),
                             info=info, probe=probe)
    qtbot.addWidget(dialog)
    assert "llama-3.2-3b-instruct-q8_0" in _names(dialog)
    dialog.fits.setChecked(True)
    assert "llama-3.2-3b-instruct-q8_0" not in _names(dialog)  # won't fit in 4 GB
    dialog.role.setCurrentIndex(dialog.role.findData("tts"))
    dialog.lang.setCurrentIndex(dialog.lang.findData("de"))
    assert _names(dialog) == ["de_DE-thorsten-medium"]
    dialog.role.setCurrentIndex(dialog.role.findData("asr"))
    assert "whisper-small" in _names(dialog) and "whisper-base.en" not in _names(dialog)  # multilingual ones match
    assert all("*" in e.languages or "de" in e.languages for e in dialog.rows)
    row = _names(dialog).index("whisper-small")
    assert dialog.table.item(row, 4).text() in ("runs well here", "slow here")
    assert "transcribe" in dialog.table.item(row, 5).text()


def test_install_pause_resume_use(qtbot: Any, tmp_path: Path, smollm: Path, model_server: ModelServer,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    catalogue = catalogue_with_chat_file(smollm)
    entry = catalogue.get("test-chat")
    model_server.put(urlsplit(entry.files[0].url).path, smollm.read_bytes())
    first_block, gate = threading.Event(), threading.Event()
    real_install = install_mod.install

    def held_install(entry: Any, manager: Any, *, pause: Any, progress: Any) -> Any:
        def hold(done: int, total: int | None) -> None:
            progress(done, total)
            if done > 0:
                first_block.set()
                assert gate.wait(10)

        return real_install(entry, manager, pause=pause, progress=hold, base_url=model_server.base)

    monkeypatch.setattr(catalogue_page.install_mod, "install", held_install)
    manager = ModelManager(tmp_path / "models")
    info, probe = profile(2, 8, decode_tok_s=130.0)
    dialog = CatalogueDialog(manager=manager, catalogue=catalogue, info=info, probe=probe)
    qtbot.addWidget(dialog)
    dialog.select("test-chat")
    assert dialog.install_button.isEnabled() and not dialog.use_button.isEnabled()

    with qtbot.waitSignal(dialog.signals.sig_done, timeout=20000):
        dialog.install_button.click()
        assert first_block.wait(10)
        assert dialog.pause_button.isEnabled()
        dialog.pause_button.click()
        gate.set()
    assert "Paused" in dialog.status.text()
    assert not dialog.resume_button.isHidden() and not dialog.install_button.isEnabled()
    assert install_mod.installed(entry, manager) is None
    assert list(manager.downloads_dir.glob("test-chat.gguf.part"))  # kept for the resume

    with qtbot.waitSignal(dialog.signals.sig_done, timeout=20000):
        dialog.resume_button.click()
    assert install_mod.installed(entry, manager) is not None
    assert model_server.requests[-1][1] is not None  # resumed with a Range request
    row = _names(dialog).index("test-chat")
    assert dialog.table.item(row, 6).text() == "✓" and dialog.use_button.isEnabled()

    dialog.use_button.click()
    path = str(install_mod.target_path(entry, manager))
    assert dialog.result_fields == {"llm.model": path, "llm.chat_format": "chatml"}

    from app.ui.settings_dialog import SettingsDialog

    settings_dialog = SettingsDialog(Settings(), data_dir=tmp_path / "data")
    qtbot.addWidget(settings_dialog)
    settings_dialog.apply_catalogue(dialog.result_fields)
    values = settings_dialog.values()
    assert values["llm"]["model"] == path and values["llm"]["chat_format"] == "chatml"


def test_cancel_deletes_the_partial_download(qtbot: Any, tmp_path: Path, smollm: Path,
                                             model_server: ModelServer) -> None:
    catalogue = catalogue_with_chat_file(smollm)
    entry = catalogue.get("test-chat")
    manager = ModelManager(tmp_path / "models")
    manager.downloads_dir.mkdir(parents=True)
    (manager.downloads_dir / "test-chat.gguf.part").write_bytes(b"GGUF" + b"\0" * 1000)
    info, probe = profile(2, 8, decode_tok_s=130.0)
    dialog = CatalogueDialog(manager=manager, catalogue=catalogue, info=info, probe=probe)
    qtbot.addWidget(dialog)
    dialog.paused.add(entry.name)
    dialog.refresh()
    dialog.select("test-chat")
    assert dialog.cancel_button.isEnabled()
    dialog.cancel_button.click()
    assert not list(manager.downloads_dir.glob("test-chat*")) and "deleted" in dialog.status.text()


def test_a_voice_in_another_language_offers_the_recognizer_and_persona(qtbot: Any, tmp_path: Path) -> None:
    catalogue = cat_mod.load()
    manager = ModelManager(tmp_path / "models")
    entry = catalogue.get("de_DE-thorsten-medium")
    # an installed copy (validated like a real voice: an .onnx with its .onnx.json)
    from tests.models.conftest import make_voice

    make_voice(manager.user_dir("tts"), entry.name)
    info, probe = profile(2, 8, decode_tok_s=130.0)
    dialog = CatalogueDialog(manager=manager, catalogue=catalogue, info=info, probe=probe, current_asr="tiny.en")
    qtbot.addWidget(dialog)
    dialog.select(entry.name)
    assert not dialog.with_language.isHidden() and "Deutsch" in dialog.with_language.text()
    dialog.with_language.setChecked(True)
    dialog.use_button.click()
    fields = dialog.result_fields
    assert fields["asr.language"] == "de" and fields["asr.model"] == "base"
    assert fields["persona.system_prompt"].startswith("Du bist") and fields["tts.voice"].endswith(".onnx")
