"""`visage models …` end to end, including a real full-disk failure: the CLI runs in a subprocess whose
file-size limit (RLIMIT_FSIZE) is below the model's size, so the write itself fails with EFBIG."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from app.cli import cli
from app.core import config as config_mod
from tests.models.conftest import ModelServer, fake_gguf, sha

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024


def test_add_use_list_remove(env: dict[str, str], tmp_path: Path) -> None:
    gguf = tmp_path / "helper-1b.gguf"
    gguf.write_bytes(fake_gguf())
    runner = CliRunner()

    added = runner.invoke(cli, ["models", "add", str(gguf), "--use"])
    assert added.exit_code == 0, added.output
    installed = Path(env["VISAGE_MODELS_DIR"]) / "user" / "llm" / "helper-1b.gguf"
    assert installed.is_file()
    assert config_mod.load(Path(env["VISAGE_CONFIG"])).llm.model == str(installed)

    listed = runner.invoke(cli, ["models", "list", "--json"])
    rows = json.loads(listed.output)
    mine = [r for r in rows if r["source"] == "user"]
    assert mine == [{**mine[0], "role": "llm", "name": "helper-1b", "in_use": True}]

    removed = runner.invoke(cli, ["models", "remove", "helper-1b"])
    assert removed.exit_code == 0 and not installed.exists()
    assert "was in use" in removed.output

    bad = runner.invoke(cli, ["models", "add", str(tmp_path / "config.toml")])
    assert bad.exit_code == 3 and "not a model Visage knows" in bad.output


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (2 * MB, 2 * MB))  # Python ignores SIGXFSZ: writes get EFBIG


def test_a_full_disk_during_download_fails_cleanly_and_resumes_later(
        env: dict[str, str], model_server: ModelServer) -> None:
    data = fake_gguf()
    url = model_server.put("/m/quota.gguf", data)
    cmd = [sys.executable, "-m", "app", "models", "download", url, "--sha256", sha(data)]
    result = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True,
                            timeout=120, preexec_fn=_limit_file_size)
    assert result.returncode == 5, result.stderr  # StorageError
    assert "is full" in result.stderr and "resumes" in result.stderr
    part = Path(env["VISAGE_MODELS_DIR"]) / "user" / ".downloads" / "quota.gguf.part"
    assert part.stat().st_size == 2 * MB  # exactly what the quota allowed
    assert not (Path(env["VISAGE_MODELS_DIR"]) / "user" / "llm" / "quota.gguf").exists()

    # space freed: the same command resumes from the part and verifies the whole file
    done = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert model_server.requests[-1][1] == f"bytes={2 * MB}-"
    assert (Path(env["VISAGE_MODELS_DIR"]) / "user" / "llm" / "quota.gguf").read_bytes() == data
