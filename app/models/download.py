"""Downloading one model file over HTTP(S): resumable, space-checked, sha256-verified, cancellable. Qt-free.

:func:`fetch` (used by :class:`app.models.manager.ModelManager` and the catalogue install) goes over
httpx with TLS verified; plain ``http://`` is refused except to this computer (loopback), and every
redirect hop is checked like the first URL (:func:`check_hop`). It:

- checks the free disk space before the first byte is written (:func:`app.models.disk.check_disk_space`);
- writes ``<name>.part`` and resumes it with an HTTP ``Range`` request (``If-Range`` with the ETag, so a
  file that changed on the server restarts instead of being spliced); ``<name>.part.json`` remembers the
  URL and the validators;
- reports progress through a callback and stops between chunks when a ``threading.Event`` is set (the
  ``.part`` file stays for a later resume);
- verifies the sha256 when one is given (a mismatch deletes the download) and only then renames the
  ``.part`` file to its final name.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from app.core import urls
from app.core.errors import Cancelled, ModelError, NetworkError, StorageError
from app.models.disk import check_disk_space, discard, disk_full, is_full_disk

CHUNK = 256 * 1024

ProgressCallback = Callable[[int, int | None], None]


class ChecksumError(ModelError):
    """A downloaded file does not have the sha256 the user gave."""


class DownloadError(NetworkError):
    """The server could not be reached or answered with an error. Running the command again resumes."""


def check_url(url: str) -> None:
    """Refuse anything but an https URL (plain http only to this computer). Raises ModelError."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ModelError(f"'{url}' is not an http(s) URL.", hint="Give the address of the model file (https://…).")
    if urls.is_plain_http_off_machine(url):
        raise ModelError(
            f"Refusing to download a model over plain http from {parts.hostname}: it could be altered on the way.",
            hint=f"Use the https:// address of the file ({urls.LOOPBACK_HINT}).",
        )


def check_hop(request: Any) -> None:
    """httpx request hook: a redirect to plain http off this computer is refused before it is sent."""
    url = str(request.url)
    if urls.is_plain_http_off_machine(url):
        raise ModelError(
            f"Refusing to follow a redirect to plain http ({request.url.host}): the model could be altered on the way.",
            hint=f"Ask the model's publisher for an https:// download ({urls.LOOPBACK_HINT}).",
        )


def filename_from_url(url: str) -> str:
    """The last part of the URL's path, percent-decoded (``download`` when there is none)."""
    name = Path(unquote(urlsplit(url).path)).name
    return name or "download"


def fetch(
    url: str,
    dest: Path,
    *,
    sha256: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    client: Any = None,
    timeout_s: float = 30.0,
) -> Path:
    """Download ``url`` to ``dest`` via ``dest.part`` with resume, space check, checksum, cancel.

    A ``client`` given by the caller must check redirect hops itself (see :func:`check_hop`); without
    one, an httpx client with ``timeout_s`` is made and closed here."""
    import httpx

    check_url(url)
    expected = sha256.strip().lower() if sha256 else None
    if expected is not None and (len(expected) != 64 or any(c not in "0123456789abcdef" for c in expected)):
        raise ModelError(f"'{sha256}' is not a sha256 checksum (64 hex digits).", hint="Copy it again.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    meta_path = dest.with_name(dest.name + ".part.json")
    meta = _read_meta(meta_path, url)
    have = part.stat().st_size if part.exists() and meta else 0
    if not meta:
        discard(part)
    headers = {"Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
        validator = meta.get("etag") or meta.get("last_modified")
        if validator:
            headers["If-Range"] = validator
    own_client = client is None
    if own_client:
        # every hop of a redirect is checked before it is requested, not only the first URL
        client = httpx.Client(follow_redirects=True, verify=True, event_hooks={"request": [check_hop]},
                              timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)))
    try:
        try:
            with client.stream("GET", url, headers=headers) as response:
                if response.status_code == 416 and have:
                    # the .part holds at least the whole file: check what we have
                    total = _total_from_416(response)
                    if total is not None and total == have:
                        return _finish(part, meta_path, dest, expected, progress, have)
                    discard(part)
                    raise DownloadError(f"The server refused to resume {url} (416).",
                                        hint="Run the command again: the download starts over.")
                if response.status_code >= 400:
                    raise DownloadError(
                        f"The server answered {response.status_code} {response.reason_phrase} for {url}.",
                        hint="Check the URL; if the server is busy, run the command again later (it resumes).")
                resumed = response.status_code == 206 and have > 0
                if resumed:
                    start = _range_start(response)
                    if start != have:
                        resumed = False
                if not resumed:
                    have = 0
                total = _total(response, have)
                remaining = None if total is None else total - have
                if remaining is not None:
                    check_disk_space(remaining, dest.parent)
                _write_meta(meta_path, url, response)
                digest = _hash_existing(part) if (resumed and expected) else hashlib.sha256()
                done = have
                if progress:
                    progress(done, total)
                mode = "ab" if resumed else "wb"
                with part.open(mode) as out:
                    for block in response.iter_bytes(CHUNK):
                        if cancel is not None and cancel.is_set():
                            raise Cancelled(f"Download of {dest.name} cancelled at {done:,} bytes.",
                                            hint="Run the same download again to resume.")
                        try:
                            out.write(block)
                        except OSError as err:
                            if is_full_disk(err):
                                raise disk_full(dest.parent, err) from None
                            raise
                        digest.update(block)
                        done += len(block)
                        if progress:
                            progress(done, total)
                    out.flush()
                    os.fsync(out.fileno())
                if total is not None and done != total:
                    raise DownloadError(f"The transfer of {url} stopped at {done:,} of {total:,} bytes.",
                                        hint="Run the same command again: it resumes where it stopped.")
        except httpx.HTTPError as err:
            raise DownloadError(f"Downloading {url} failed: {err}",
                                hint="Check the connection and run the same command again: it resumes.") from None
        except OSError as err:
            if is_full_disk(err):
                raise disk_full(dest.parent, err) from None
            raise StorageError(f"Cannot write {part}: {err.strerror or err}",
                               hint="Check that the models folder is writable.") from None
    finally:
        if own_client:
            client.close()
    actual = digest.hexdigest() if expected else None
    return _finish(part, meta_path, dest, expected, progress, done, actual=actual)


# -- helpers ----------------------------------------------------------------------------------------


def _read_meta(meta_path: Path, url: str) -> dict[str, Any]:
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) and meta.get("url") == url else {}


def _write_meta(meta_path: Path, url: str, response: Any) -> None:
    headers = response.headers
    meta = {"url": url, "etag": headers.get("etag"), "last_modified": headers.get("last-modified")}
    meta_path.write_text(json.dumps(meta), encoding="utf-8")


def _range_start(response: Any) -> int | None:
    value = response.headers.get("content-range", "")  # bytes START-END/TOTAL
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _total(response: Any, have: int) -> int | None:
    if response.status_code == 206:
        value = response.headers.get("content-range", "")
        total = value.rpartition("/")[2]
        if total.isdigit():
            return int(total)
    length = response.headers.get("content-length")
    return have + int(length) if length and length.isdigit() else None


def _total_from_416(response: Any) -> int | None:
    total = response.headers.get("content-range", "").rpartition("/")[2]
    return int(total) if total.isdigit() else None


def _hash_existing(part: Path) -> Any:
    digest = hashlib.sha256()
    with part.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest


def _finish(part: Path, meta_path: Path, dest: Path, expected: str | None,
            progress: ProgressCallback | None, done: int, *, actual: str | None = None) -> Path:
    if expected is not None:
        actual = actual or _hash_existing(part).hexdigest()
        if actual != expected:
            discard(part)
            discard(meta_path)
            raise ChecksumError(
                f"The download of {dest.name} is damaged or not the expected file: sha256 {actual} "
                f"instead of {expected}.",
                hint="The file was deleted. Check the checksum you gave, then download again.",
            )
    os.replace(part, dest)
    discard(meta_path)
    if progress:
        progress(done, done)
    return dest
