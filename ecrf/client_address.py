"""The real client address, behind exactly `NUM_PROXIES` trusted reverse proxies.

`X-Forwarded-For` is ignored unless NUM_PROXIES > 0 (otherwise any client could name any
address and escape its throttle). With N proxies, each appends the address it received the
request from, so the client is the N-th address from the right; anything further left was
written by the client and is not trusted. Used by the token throttle, django-axes and the
security event log alike.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_address(request) -> str | None:
    meta = getattr(request, "META", {})
    remote = _valid(meta.get("REMOTE_ADDR", "") or "")
    proxies = int(getattr(settings, "NUM_PROXIES", 0) or 0)
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if not hops:
        return remote
    return _valid(hops[-min(proxies, len(hops))]) or remote
