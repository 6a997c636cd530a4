"""The core stays Qt-free and headless: app/core, app/store, app/studio, app/sync, app/session, app/api and engines
never import PySide6."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QT_FREE = ["app/core", "app/store", "app/models", "app/studio", "app/sync", "app/session", "app/api", "engines"]


def python_files() -> list[Path]:
    return [p for d in QT_FREE for p in (ROOT / d).rglob("*.py")]


SCAN = """
import ast, json, sys
offenders = []
for name in sys.argv[1:]:
    tree = ast.parse(open(name, encoding="utf-8").read())
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        if any(n.split(".")[0] in {"PySide6", "PyQt5", "PyQt6", "shiboken6"} for n in names):
            offenders.append(f"{name}:{node.lineno}")
print(json.dumps(offenders))
"""


def test_no_qt_import_in_core_sources() -> None:
    # Parsed in a fresh interpreter: CPython 3.11's ast.parse can fail with "AST constructor recursion
    # depth mismatch" when earlier code in the same process left its recursion counter off.
    files = [str(p.relative_to(ROOT)) for p in python_files()]
    assert files, "no core files found"
    out = subprocess.run([sys.executable, "-c", SCAN, *files], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []


def test_importing_every_core_module_loads_no_qt() -> None:
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__") for p in python_files()
    )
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        "print(sorted(k for k in sys.modules if k.split('.')[0] in ('PySide6', 'shiboken6')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
