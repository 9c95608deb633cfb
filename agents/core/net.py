"""Loopback: the only hosts an agent listens on, and the only ones that may be spoken to in
cleartext."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = ["LOOPBACK_NAMES", "host_header_ok", "is_loopback"]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is this machine:
    ``localhost`` and its subdomains (RFC 6761), 127.0.0.0/8, ``::1``."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_header_ok(value: str | None, port: int | None) -> bool:
    """Whether a request's ``Host`` header names this loopback listener (a web page's request
    after DNS rebinding names another host): a loopback name, and ``port`` when given."""
    if not value:
        return False
    try:
        parts = urlsplit(f"//{value}")
        given = parts.port
    except ValueError:
        return False
    return parts.hostname in LOOPBACK_NAMES and (port is None or given in (port, None))
