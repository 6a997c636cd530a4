"""A real HTTP server on 127.0.0.1 for the model-manager tests: Range requests, ETag/If-Range,
transfers cut mid-way (the connection closes before the promised length), and a request log."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from engines.models import MIN_GGUF_BYTES, MIN_VOICE_BYTES


@dataclass
class Served:
    data: bytes
    etag: str
    #: close the connection after this many body bytes (once), then serve normally
    cut_after: int | None = None


@dataclass
class ModelServer:
    base: str
    files: dict[str, Served] = field(default_factory=dict)
    #: (path, Range header or None, If-Range header or None) per GET
    requests: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    support_ranges: bool = True
    #: path -> Location answered with a 302
    redirects: dict[str, str] = field(default_factory=dict)

    def put(self, path: str, data: bytes, *, cut_after: int | None = None) -> str:
        self.files[path] = Served(data, f'"{hashlib.sha256(data).hexdigest()[:16]}"', cut_after)
        return self.base + path


def _handler(server_state: ModelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            served = server_state.files.get(self.path)
            rng, if_range = self.headers.get("Range"), self.headers.get("If-Range")
            server_state.requests.append((self.path, rng, if_range))
            if self.path in server_state.redirects:
                self.send_response(302)
                self.send_header("Location", server_state.redirects[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if served is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data, start = served.data, 0
            partial = bool(rng and server_state.support_ranges and (if_range is None or if_range == served.etag))
            if partial:
                assert rng is not None
                start = int(rng.removeprefix("bytes=").split("-")[0])
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", served.etag)
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            if served.cut_after is not None:
                cut = served.cut_after
                served.cut_after = None
                self.wfile.write(body[:cut])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that cancels mid-transfer breaks the pipe: expected here


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    """An HTTP server on a free loopback port; ``put(path, bytes)`` serves a file and returns its URL."""
    state = ModelServer(base="")
    httpd = _QuietServer(("127.0.0.1", 0), _handler(state))
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def fake_gguf(size: int = MIN_GGUF_BYTES + 1_000_000, seed: int = 1) -> bytes:
    """Bytes that pass the GGUF checks (magic + size); not a loadable model, which no test here needs."""
    return b"GGUF" + _noise(size - 4, seed)


def _noise(n: int, seed: int) -> bytes:
    import numpy as np

    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_whisper_dir(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "model.bin").write_bytes(_noise(2048, 3))
    (folder / "config.json").write_text(json.dumps({"alignment_heads": []}))
    (folder / "vocabulary.txt").write_text("a\nb\n")
    return folder


def voice_json() -> bytes:
    return json.dumps({"audio": {"sample_rate": 22050}, "espeak": {"voice": "en-us"}}).encode()


def make_voice(folder: Path, name: str = "en_GB-test-medium") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    onnx = folder / f"{name}.onnx"
    onnx.write_bytes(_noise(MIN_VOICE_BYTES + 10, 4))
    Path(f"{onnx}.json").write_bytes(voice_json())
    return onnx


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """VISAGE_MODELS_DIR, VISAGE_CONFIG and VISAGE_DATA_DIR pointed into ``tmp_path`` (for CLI tests)."""
    values = {"VISAGE_MODELS_DIR": str(tmp_path / "models"), "VISAGE_CONFIG": str(tmp_path / "config.toml"),
              "VISAGE_DATA_DIR": str(tmp_path / "data")}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture
def smollm() -> Path:
    """The shipped SmolLM2 GGUF: a small real model file to serve from the loopback server."""
    from engines.models import resolve_llm

    try:
        return resolve_llm("smollm2-135m")
    except Exception as err:  # the embedded model package is part of the setup
        pytest.skip(f"shipped SmolLM2 not installed: {err}")


def catalogue_with_chat_file(path: Path, url: str = "https://example.org/test/test-chat.gguf") -> Any:
    """The shipped catalogue plus one chat model, ``test-chat``, whose file is ``path`` (served by the test)."""
    import tomllib

    from app.models import catalogue as cat_mod

    data = tomllib.loads(cat_mod.CATALOGUE_PATH.read_text(encoding="utf-8"))
    data["model"].insert(0, {
        "name": "test-chat", "role": "llm", "title": "test", "params_b": 0.135, "licence": "Apache-2.0",
        "languages": ["en"], "ram_gb": 0.2, "good_for": "a test", "chat_format": "chatml",
        "file": [{"name": "test-chat.gguf", "url": url, "size": path.stat().st_size, "sha256": sha(path.read_bytes()),
                  "sha256_source": "computed by the test from the file it serves"}]})
    return cat_mod.parse(data)
