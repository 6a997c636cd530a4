"""Writing user-facing files safely: a crash or a full disk never leaves a half-written file."""

from __future__ import annotations

import contextlib
from pathlib import Path

from engines.errors import StorageError


def write_text_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a ``.part`` file renamed into place; StorageError on failure."""
    tmp = path.with_name(path.name + ".part")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as err:
        with contextlib.suppress(OSError):  # the folder itself may be the problem
            tmp.unlink(missing_ok=True)
        raise StorageError(f"Cannot write {path}: {err.strerror or err}",
                           hint="Choose another path or free disk space.") from None
    return path
