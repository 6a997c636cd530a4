"""Fetch one distribution file from PyPI with pip (``pip download --no-deps``) without installing it.

Some models and test recordings ship inside packages the app must not install (pipecat-ai's wheel holds
the Smart Turn model, pocketsphinx's sdist holds LibriVox recordings): set-up downloads the file into a
temporary folder and takes out what it needs. pip is the client, so the user's index, proxy and
certificate settings apply.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

log = logging.getLogger(__name__)


class DownloadFailed(RuntimeError):
    """pip could not download the file; the message ends with pip's own last words."""


def pip_download(name: str, version: str, dest: Path, *, sdist: bool = False) -> Path:
    """Download ``name==version`` (its wheel, or its source archive when ``sdist``) into ``dest``.

    Returns the downloaded file. Raises :class:`DownloadFailed` when pip fails or leaves no file.
    """
    dest.mkdir(parents=True, exist_ok=True)
    kind = ["--no-binary", name] if sdist else ["--only-binary=:all:"]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", *kind, "--quiet",
           "--disable-pip-version-check", "--dest", str(dest), f"{name}=={version}"]
    log.info("Downloading %s %s: %s", name, version, " ".join(cmd))
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    stem = f"{name}_{version}".replace("-", "_").lower()  # pipecat_ai-1.14.0-py3-…whl, pocketsphinx-5.1.1.tar.gz
    found = [p for p in dest.iterdir() if p.name.replace("-", "_").lower().startswith((f"{stem}_", f"{stem}."))]
    if result.returncode != 0 or not found:
        tail = result.stderr.strip().splitlines()[-1:] or ["no file was downloaded"]
        raise DownloadFailed(f"pip could not download {name}=={version}: {tail[0][-300:]}")
    return sorted(found)[0]
