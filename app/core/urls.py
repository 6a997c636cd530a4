"""Where Visage may talk in the clear: https everywhere, plain http only to this computer (loopback).

One rule for the model downloads (every redirect hop), the sync server URL and the sync client, so an API
key or a model file never crosses a network unencrypted.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

#: said wherever plain http is refused
LOOPBACK_HINT = "http:// is accepted only to this computer (localhost, 127.0.0.1, [::1])"


def is_loopback(host: str | None) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1); names are not resolved."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_plain_http_off_machine(url: str) -> bool:
    """True for an ``http://`` URL whose host is not this computer."""
    parts = urlsplit(url)
    return parts.scheme.lower() == "http" and not is_loopback(parts.hostname)
