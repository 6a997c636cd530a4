"""PyInstaller runtime hook: runs inside the bundle before Visage starts.

The prepared models (joined whisper base, alignment-patched voice, face models, CMU dictionary) travel
inside the bundle under ``_internal/models``; ``engines.locations.bundled_models_dir()`` finds them. NLTK is
pointed at the bundled CMU dictionary so the copy studio needs no download and no write.
"""

import os
import sys
from pathlib import Path

_root = Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent))
_nltk = _root / "models" / "nltk_data"
if _nltk.is_dir():
    os.environ.setdefault("NLTK_DATA", str(_nltk))
