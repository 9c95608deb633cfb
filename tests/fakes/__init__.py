"""Loopback fakes of the SaaS upstreams, speaking each vendor's real HTTP API."""
