"""Lokka agent tools: importing this module registers every tool on ``registry``."""

from __future__ import annotations

from agents.lokka import apps, azure, directory, passthrough, security, users
from agents.lokka.app import SPEC, connect, registry
from agents.lokka.settings import LokkaSettings

__all__ = ["SPEC", "LokkaSettings", "connect", "registry"]

AREAS = (users, directory, apps, security, azure, passthrough)
