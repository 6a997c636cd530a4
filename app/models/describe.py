"""What ``visage doctor`` says about the models: one row per shipped model, plus the specs in use. Qt-free.

:func:`describe_models` resolves every shipped model (and the user's chosen specs) with the engines' own
resolvers in :mod:`engines.models` and turns the result, or the :class:`ModelError` with its fix, into a
plain dict row; it never raises. :func:`check_models` turns those rows into the doctor's
:class:`app.core.doctor.Check` lines (``app/cli.py`` hands them to :func:`app.core.doctor.run_checks`,
which sits in the core layer below this package and so cannot import it).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.config import Settings
from app.core.doctor import Check, Status
from app.core.errors import ModelError, VisageError
from engines.models import (
    PREPARED_ASR,
    PREPARED_LLM,
    SHIPPED_ASR_PACKAGE,
    SHIPPED_LLM,
    SHIPPED_VOICES,
    assembled_llm_path,
    models_root,
    package_file,
    patched_voice_path,
    prepared_path,
    resolve_asr,
    resolve_llm,
    resolve_voice,
    shipped_llm_names,
)
from engines.turn.model_file import SMART_TURN_NAME, SOURCE, resolve_smart_turn, smart_turn_path


@dataclass(frozen=True, slots=True)
class _Candidate:
    role: str
    name: str
    resolve: Callable[[], Path]


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _expected_path(role: str, name: str, root: Path) -> Path | None:
    if role == "llm" and name in SHIPPED_LLM:
        return package_file(*SHIPPED_LLM[name])
    if role == "llm" and name in PREPARED_LLM:
        return assembled_llm_path(name, models_dir=root)
    if role == "asr" and name in SHIPPED_ASR_PACKAGE:
        return package_file(*SHIPPED_ASR_PACKAGE[name])
    if role == "asr" and name in PREPARED_ASR:
        return root / PREPARED_ASR[name]
    if role == "tts" and name in SHIPPED_VOICES:
        return patched_voice_path(name, models_dir=root)
    if role == "turn":
        return smart_turn_path(models_dir=root)
    return None


def describe_models(
    *,
    llm: str | None = None,
    asr: str | None = None,
    voice: str | None = None,
    models_dir: Path | None = None,
) -> list[dict[str, Any]]:
    """One row per shipped model (plus the given user specs): never raises.

    Row keys: ``role``, ``name``, ``path`` (str or None), ``size_bytes`` (int or None), ``size_mb`` (float
    or None), ``found`` (bool), ``problem`` (str or None), ``fix`` (what to do about it, "" when nothing),
    ``note`` (str), ``selected`` (bool: the spec in use).
    """
    root = models_root(models_dir)
    candidates = [_Candidate("llm", n, lambda n=n: resolve_llm(n, models_dir=root)) for n in shipped_llm_names()]
    candidates += [
        _Candidate("asr", n, lambda n=n: resolve_asr(n, models_dir=root))
        for n in [*SHIPPED_ASR_PACKAGE, *PREPARED_ASR]
    ]
    candidates += [_Candidate("tts", n, lambda n=n: resolve_voice(n, models_dir=root)) for n in SHIPPED_VOICES]
    candidates.append(_Candidate("turn", SMART_TURN_NAME, lambda: resolve_smart_turn(models_dir=root)))
    selected = {"llm": llm, "asr": asr, "tts": voice}
    shipped = {(c.role, c.name) for c in candidates}
    resolvers: dict[str, Callable[[str], Path]] = {
        "llm": lambda s: resolve_llm(s, models_dir=root),
        "asr": lambda s: resolve_asr(s, models_dir=root),
        "tts": lambda s: resolve_voice(s, models_dir=root),
    }
    for role, spec in selected.items():
        if spec and (role, spec) not in shipped:
            candidates.append(_Candidate(role, spec, lambda r=role, s=spec: resolvers[r](s)))

    rows: list[dict[str, Any]] = []
    for cand in candidates:
        row: dict[str, Any] = {
            "role": cand.role,
            "name": cand.name,
            "path": None,
            "size_bytes": None,
            "size_mb": None,
            "found": False,
            "problem": None,
            "fix": "",
            "note": "",
            "selected": selected.get(cand.role) == cand.name,
        }
        try:
            path = cand.resolve()
            size = _size(path)
            row.update(path=str(path), size_bytes=size, size_mb=round(size / 1e6, 1), found=True)
            if cand.role == "llm" and cand.name in PREPARED_LLM:
                row["note"] = f"assembled from PyPI part packages; upstream: {PREPARED_LLM[cand.name].upstream}"
            if cand.role == "tts" and cand.name in SHIPPED_VOICES:
                if path == prepared_path(patched_voice_path(cand.name, models_dir=root), root):
                    row["note"] = "patched for phoneme alignments (precise lip-sync)"
                else:
                    row["note"] = "unpatched package copy: no phoneme alignments, lip-sync is less precise"
                    row["fix"] = "Run `visage setup-models` to add the alignment-patched copy."
            if cand.role == "turn":
                row["note"] = f"from the {SOURCE}"
        except ModelError as err:
            row["problem"] = err.message
            row["fix"] = err.hint or ""
            expected = _expected_path(cand.role, cand.name, root)
            row["path"] = str(expected) if expected is not None else cand.name
        except Exception as err:  # doctor must never crash on a broken model
            row["problem"] = f"{type(err).__name__}: {err}"
        rows.append(row)
    return rows


def check_models(settings: Settings) -> list[Check]:
    """The doctor's lines for the models: every row of :func:`describe_models`, then the user's own paths."""
    out = []
    chosen = {"llm": settings.llm.model, "asr": settings.asr.model, "tts": settings.tts.voice}
    for row in describe_models():
        in_use = chosen.get(row["role"]) == row["name"]
        status: Status = "ok" if row["found"] and not row.get("problem") else ("error" if in_use else "warn")
        size = f", {row['size_mb']:.0f} MB" if row.get("size_mb") else ""
        detail = f"{row.get('path') or 'not found'}{size}" + (" [in use]" if in_use else "")
        if row.get("problem"):
            detail += f" — {row['problem']}"
        elif row.get("note"):
            detail += f" — {row['note']}"
        out.append(Check(f"model:{row['role']}", row["name"], status, detail, row.get("fix", "")))
    for role, spec in chosen.items():
        if os.sep in spec or spec.startswith((".", "~")):
            resolve = {"llm": resolve_llm, "asr": resolve_asr, "tts": resolve_voice}[role]
            try:
                out.append(Check(f"model:{role}", spec, "ok", f"{resolve(spec)} [in use]"))
            except VisageError as err:
                out.append(Check(f"model:{role}", spec, "error", err.message, err.hint or ""))
    return out
