"""Writing user-facing files safely; the helper lives in :mod:`engines.files` and is re-exported here."""

from __future__ import annotations

from engines.files import write_text_atomic

__all__ = ["write_text_atomic"]
