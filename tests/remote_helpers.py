"""Helpers for the remote API tests (tests/server, tests/sync): a live server on loopback, a throwaway
PostgreSQL cluster started by the tests themselves, and briefs. Loopback only: nothing here binds or
connects to any other address."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BRIEFS = ROOT / "tests" / "data" / "briefs"
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def brief_dict(name: str = "ad-1") -> dict[str, Any]:
    import tomllib

    return tomllib.loads((BRIEFS / f"{name}.toml").read_text(encoding="utf-8"))


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on 127.0.0.1:<free port>; yields the base URL."""
    import uvicorn

    config = uvicorn.Config(app, host=LOOPBACK, port=0, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


# -- PostgreSQL, started by the tests on loopback in a temp dir ------------------------------------------

def _pg_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out and (Path(out) / "initdb").exists():
            return Path(out)
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    return None


class PostgresCluster:
    """A private PostgreSQL cluster: initdb in a temp dir, listening on 127.0.0.1:<free port> only.

    PostgreSQL refuses to run as root, so as root the cluster runs as the ``postgres`` system user
    (created by the Debian package). ``stop``/``start`` let a test take the database away and back.
    """

    def __init__(self) -> None:
        bindir = _pg_bindir()
        if bindir is None:
            raise FileNotFoundError("PostgreSQL is not installed: sudo apt-get install -y postgresql")
        self.bindir = bindir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="visage-pg-"))
        self.data = self.dir / "data"
        self._as: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                raise FileNotFoundError("runuser is missing (util-linux)")
            self._as = [runuser, "-u", "postgres", "--"]
            shutil.chown(self.dir, "postgres")
        self._run([str(bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "visage", "-E", "UTF8",
                   "--no-sync"])
        self.start()

    def _run(self, cmd: list[str]) -> None:
        result = subprocess.run([*self._as, *cmd], capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed: {result.stdout[-2000:]}\n{result.stderr[-2000:]}")

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses={LOOPBACK} -c fsync=off"
        self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-o", opts,
                   "-w", "-t", "60", "start"])

    def stop(self) -> None:
        self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://visage@{LOOPBACK}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def migrated_database(self, name: str) -> str:
        """A new database with the server's schema (what `python -m server migrate` does)."""
        from server.db import Database
        from server.migrations import migrate

        url = self.create_database(name)
        db = Database(url, pool_size=1)
        try:
            migrate(db)
        finally:
            db.close()
        return url

    def destroy(self) -> None:
        with suppress(RuntimeError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# -- server processes (python -m server ...) on loopback -------------------------------------------------

class ServerCommand:
    """``python -m server ARGS`` as a child process with its log in a file; ``kill`` is SIGKILL (a crash)."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.args = [sys.executable, "-m", "server", *args]
        self.log = log
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerCommand:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        return self

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def wait_for_output(self, text: str, timeout_s: float = 60, count: int = 1) -> None:
        deadline = time.monotonic() + timeout_s
        while self.output().count(text) < count:
            if time.monotonic() > deadline or (self.proc is not None and self.proc.poll() is not None):
                raise AssertionError(f"{text!r} not seen in the log of {self.args[3:]}:\n{self.output()[-3000:]}")
            time.sleep(0.05)

    def wait(self, timeout_s: float = 60) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout_s)

    def kill(self) -> None:
        """SIGKILL the process group (uvicorn's worker processes included)."""
        if self.proc is not None and self.proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def api_node(url: str, log: Path, *, workers: int = 1, env: dict[str, str] | None = None) -> tuple[ServerCommand, str]:
    """``python -m server run`` on a free loopback port, started and answering; returns it and its base URL."""
    port = free_port()
    node = ServerCommand(["run", "--host", LOOPBACK, "--port", str(port), "--workers", str(workers),
                          "--database-url", url], log, env).start()
    base = f"http://{LOOPBACK}:{port}"
    wait_healthy(base, node)
    return node, base


def wait_healthy(base: str, node: ServerCommand | None = None, timeout_s: float = 90) -> dict[str, Any]:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if node is not None and node.proc is not None and node.proc.poll() is not None:
            raise AssertionError(f"the server exited: {node.output()[-3000:]}")
        try:
            r = httpx.get(f"{base}/v11/health", timeout=2)
            if r.status_code == 200:
                return dict(r.json())
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base} did not become healthy: {node.output()[-3000:] if node else ''}")


def _words(n_chars: int, seed: int) -> str:
    """Plain prose of exactly ``n_chars`` characters (no trailing space), different for each seed."""
    vocabulary = ["smooth", "coffee", "morning", "brewed", "overnight", "kitchen", "glass", "filter", "bold",
                  "quiet", "ritual", "fresh", "simple", "pour", "chilled", "beans", "taste", "daily"]
    words, i = [], seed
    while len(" ".join(words)) < n_chars:
        words.append(vocabulary[i % len(vocabulary)])
        i = i * 7 + 3
    return " ".join(words)[:n_chars].strip()


def oversize_request() -> dict[str, Any]:
    """A /generate body at the API's maximum: every brief and brand-voice field at its longest. Valid, but
    its prompt is far beyond a 2,048-token context window."""
    brief = {"type": "product-description", "product": "BrewMate " + _words(190, 1), "audience": _words(200, 2),
             "key_points": [_words(300, 10 + i) for i in range(8)], "avoid": [f"avoid{i} " + _words(60, i)
                                                                             for i in range(40)],
             "tone": _words(200, 3), "cta": _words(30, 4), "notes": _words(1000, 5), "length": "long"}
    voice = {"name": "Maximal", "description": _words(500, 6), "tone": [f"tone{i}" for i in range(10)],
             "do": [_words(200, 20 + i) for i in range(12)], "dont": [_words(200, 40 + i) for i in range(12)],
             "banned": [f"banned{i}" for i in range(60)], "samples": [_words(1000, 60 + i) for i in range(5)]}
    return {"brief": brief, "n": 3, "voice": voice}
