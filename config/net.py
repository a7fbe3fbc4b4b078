"""The client's real address. X-Forwarded-For is trusted only as far as TRUSTED_PROXY_COUNT
says there are proxies of ours in front of the app; with none (the default) a client could
write anything in that header, so only the socket's address counts."""

from __future__ import annotations

from django.conf import settings


def client_address(request) -> str:
    remote = request.META.get("REMOTE_ADDR") or "?"
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded.strip():
        return remote
    # Each of our proxies appends the address it was reached from: the entry our outermost
    # proxy wrote is the client; anything left of it came from the client and is ignored.
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    return hops[-min(proxies, len(hops))] if hops else remote
