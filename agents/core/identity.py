"""How an agent names itself on /readyz (stdlib only: the probe imports it on every start).

/readyz names the agent and the start it belongs to: the supervisord conf passes each agent a
fresh nonce per supervisord start, so a foreign server (or a stale agent of an earlier start)
on the port is never taken for ours.
"""

from __future__ import annotations

__all__ = ["AGENT_HEADER", "INSTANCE_ENV", "INSTANCE_HEADER"]

AGENT_HEADER = "X-Agent"
INSTANCE_HEADER = "X-Agent-Instance"
INSTANCE_ENV = "AGENT_INSTANCE"
