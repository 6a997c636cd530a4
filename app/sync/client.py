"""HTTP client for the remote API (``/v11``). Maps every failure to retryable or permanent.

Retryable (``SyncRetryable``): connection errors, timeouts, dropped connections, 429 (with its
Retry-After), 5xx. Permanent (``SyncPermanent``): 401/403 (key), 413/422 and other 4xx (data).
TLS certificates are verified unless the settings turn it off for a test server; plain http is refused except
to this computer (loopback), so the key never crosses a network in the clear. Redirects are not followed.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from app.core.urls import LOOPBACK_HINT, is_plain_http_off_machine
from app.sync.errors import SyncPermanent, SyncRetryable

log = logging.getLogger(__name__)

API_PREFIX = "/v11"


class SyncClient:
    def __init__(self, base_url: str, api_key: str | None, *, timeout_s: float = 10.0, verify_tls: bool = True,
                 transport: httpx.BaseTransport | None = None) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise SyncPermanent(f"The server URL {base_url!r} is not an http(s) URL.",
                                hint="Set it with `visage sync enable --url https://…`.")
        if is_plain_http_off_machine(base_url):
            raise SyncPermanent(f"Refusing to send the API key over plain http to {base_url!r}: anyone on the way"
                                " could read it.",
                                hint=f"Use the server's https:// address ({LOOPBACK_HINT}): "
                                "`visage sync enable --url https://…`.")
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self._http = httpx.Client(base_url=self.base_url, timeout=httpx.Timeout(timeout_s), verify=verify_tls,
                                  transport=transport, headers={"User-Agent": "visage-sync/1"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, *, json: Any = None, headers: dict[str, str] | None = None,
                 auth: bool = True) -> Any:
        sent = dict(headers or {})
        if auth:
            if not self._key:
                raise SyncPermanent("No API key is set for the remote API.",
                                    hint="Run `visage sync set-key` (the key goes to the OS keyring).")
            sent["X-API-Key"] = self._key
        try:
            response = self._http.request(method, API_PREFIX + path, json=json, headers=sent)
        except httpx.TimeoutException as err:
            raise SyncRetryable(f"The server did not answer in time ({type(err).__name__}).") from None
        except httpx.TransportError as err:  # refused, reset, dropped mid-response, DNS, TLS
            raise SyncRetryable(f"Cannot reach the server ({type(err).__name__}).") from None
        status = response.status_code
        if status < 300:
            try:
                return response.json()
            except ValueError:
                raise SyncRetryable("The server sent an unreadable answer.", status=status) from None
        message = _message(response)
        if status == 429 or status >= 500 or status == 408:
            raise SyncRetryable(f"The server is busy or failing ({status}: {message}).", status=status,
                                retry_after_s=_retry_after(response))
        if status in (401, 403):
            raise SyncPermanent(f"The server refused the API key ({status}: {message}).", status=status,
                                hint="Set a valid key with `visage sync set-key`, then `visage sync flush`.")
        raise SyncPermanent(f"The server rejected the request ({status}: {message}).", status=status,
                            hint=_hint(response) or "This is likely a version mismatch; update Visage or the server.")

    def health(self) -> dict[str, Any]:
        return dict(self._request("GET", "/health", auth=False))

    def send_events(self, events: list[dict[str, Any]], *, idempotency_key: str) -> dict[str, Any]:
        """POST a batch; the server ignores events it already has, so re-sending is always safe."""
        return dict(self._request("POST", "/analytics/events", json={"events": events},
                                  headers={"Idempotency-Key": idempotency_key}))

    def generate(self, brief: dict[str, Any], *, n: int, voice: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"brief": brief, "n": n}
        if voice is not None:
            body["voice"] = voice
        return dict(self._request("POST", "/generate", json=body))


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "no details"
    if isinstance(body, dict):
        if isinstance(body.get("message"), str):
            return str(body["message"])[:300]
        detail = body.get("detail")
        if isinstance(detail, dict) and isinstance(detail.get("message"), str):
            return str(detail["message"])[:300]
        if isinstance(detail, str):
            return detail[:300]
    return response.reason_phrase or "no details"


def _hint(response: httpx.Response) -> str | None:
    """The server's own advice (``detail.hint``), e.g. what to shorten in a brief that is too long."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return None
    hint = detail.get("hint") if isinstance(detail, dict) else None
    return hint[:300] if isinstance(hint, str) and hint else None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
