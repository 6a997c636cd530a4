"""Set-up step that takes the face models out of the mediapipe wheel (tested with a local wheel)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from app.core.errors import ModelError
from app.models.prepare import prepare_face_models
from engines.models import FACE_MODELS, face_model_path, resolve_face_model


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel-shaped zip holding the real face models at their places in mediapipe 0.10.21's wheel."""
    if not all(face_model_path(n).is_file() for n in FACE_MODELS):
        pytest.fail("the face models are missing: run `visage setup-models` (scripts/setup.sh)")
    path = tmp_path_factory.mktemp("wheel") / "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mediapipe/__init__.py", "")
        for name, (member, _sha) in FACE_MODELS.items():
            zf.write(face_model_path(name), member)
    return path


def test_extracts_checks_and_is_idempotent(tmp_path: Path, wheel: Path) -> None:
    message = prepare_face_models(tmp_path, wheel=wheel)
    assert "took" in message
    for name in FACE_MODELS:
        assert resolve_face_model(name, models_dir=tmp_path).is_file()
    assert sorted(p.name for p in (tmp_path / "face").iterdir()) == sorted(FACE_MODELS)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary folder left"
    assert "already prepared" in prepare_face_models(tmp_path, wheel=tmp_path / "not-used.whl")


def test_a_corrupt_model_is_detected_and_replaced(tmp_path: Path, wheel: Path) -> None:
    prepare_face_models(tmp_path, wheel=wheel)
    target = face_model_path("face_landmark.tflite", models_dir=tmp_path)
    target.write_bytes(b"garbage")
    with pytest.raises(ModelError, match="corrupt") as caught:
        resolve_face_model(models_dir=tmp_path)
    assert "setup-models" in (caught.value.hint or "")
    assert "took" in prepare_face_models(tmp_path, wheel=wheel)
    assert resolve_face_model(models_dir=tmp_path) == target


def test_missing_models_say_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not been prepared") as caught:
        resolve_face_model(models_dir=tmp_path)
    assert "setup-models" in (caught.value.hint or "")


def test_a_wheel_without_the_models_changes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "mediapipe-0.10.21-py3-none-any.whl"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("mediapipe/__init__.py", "")
    with pytest.raises(ModelError, match="does not contain"):
        prepare_face_models(tmp_path / "models", wheel=bad)
    assert not (tmp_path / "models" / "face").exists()
    assert not [p for p in (tmp_path / "models").iterdir()], "no temporary folder left"


def test_a_wheel_with_other_bytes_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "mediapipe-0.10.21-py3-none-any.whl"
    with zipfile.ZipFile(bad, "w") as zf:
        for _name, (member, _sha) in FACE_MODELS.items():
            zf.writestr(member, b"not the model")
    with pytest.raises(ModelError, match="checksum"):
        prepare_face_models(tmp_path / "models", wheel=bad)
    assert not (tmp_path / "models" / "face").exists()
