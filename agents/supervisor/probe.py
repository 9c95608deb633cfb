"""One readiness probe for the CLI and the health listener (stdlib only: both start often)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

__all__ = ["probe_ready"]


def probe_ready(port: int, timeout: float = 1.0) -> tuple[bool, bool, str | None]:
    """(answering, ready, reason) from ``GET http://127.0.0.1:<port>/readyz``.

    Answering means any HTTP answer: a 503 agent is alive but not configured.
    """
    url = f"http://127.0.0.1:{port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (OSError, TimeoutError) as exc:
        return False, False, f"no answer on port {port} ({type(exc).__name__})"
    try:
        reason = json.loads(raw).get("reason")
    except (ValueError, AttributeError):
        reason = None
    return True, status == 200, reason
