"""What every benchmark shares: the machine's CPU name and writing the JSON report (and printing it).

Benchmarks run as scripts (``python bench/NAME.py``), so this sits beside them and is imported as ``_common``.
"""

from __future__ import annotations

import json
import platform
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def write_report(report: dict[str, Any], out: str | Path) -> None:
    """Write ``report`` as indented JSON to ``out`` (folders made as needed) and print it."""
    text = json.dumps(report, indent=2)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(text + "\n")
    print(text)


def run_threads(target: Callable[[], None], count: int) -> float:
    """Runs ``target`` in ``count`` threads at once; returns the wall-clock seconds until all are done."""
    threads = [threading.Thread(target=target) for _ in range(count)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


class NoHistory:
    """A store that keeps nothing: benchmarks measure turns, not the database."""

    def create_conversation(self, title: str | None = None) -> int:
        return 0

    def add_message(self, *args: object, **kwargs: object) -> int:
        return 0

    def update_message(self, *args: object, **kwargs: object) -> None:
        return None
