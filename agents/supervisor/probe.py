"""One readiness probe for the CLI and the health listener (stdlib only: both start often)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from agents.core.identity import AGENT_HEADER, INSTANCE_ENV, INSTANCE_HEADER

__all__ = ["AGENT_HEADER", "INSTANCE_ENV", "INSTANCE_HEADER", "probe_ready"]


def probe_ready(
    port: int,
    timeout: float = 1.0,
    *,
    expect: tuple[str, str | None] | None = None,
    token: str | None = None,
) -> tuple[bool, bool, str | None]:
    """(answering, ready, reason) from ``GET http://127.0.0.1:<port>/readyz``.

    Answering means an HTTP answer from the agent: a 503 agent is alive but not configured.
    With ``expect=(agent, instance)`` an answer counts only when its headers name that agent
    (and that instance, when given); anything else on the port is not answering, and the
    reason says so. With the agent's bearer ``token`` the answer also says why it is not ready.
    """
    url = f"http://127.0.0.1:{port}/readyz"
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=auth), timeout=timeout
        ) as resp:
            status, raw, headers = resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as exc:
        status, raw, headers = exc.code, exc.read(), exc.headers
    except (OSError, TimeoutError) as exc:
        return False, False, f"no answer on port {port} ({type(exc).__name__})"
    if expect is not None:
        agent, instance = expect
        if headers.get(AGENT_HEADER) != agent or (
            instance is not None and headers.get(INSTANCE_HEADER) != instance
        ):
            seen = headers.get(AGENT_HEADER)
            if not seen:
                what = f"HTTP {status}"
            elif seen == agent:
                what = f"the {seen} agent of another start"
            else:
                what = f"the {seen} agent"
            return False, False, f"port {port} is answered by something else ({what})"
    try:
        reason = json.loads(raw).get("reason")
    except (ValueError, AttributeError):
        reason = None
    return True, status == 200, reason
