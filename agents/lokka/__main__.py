"""`python -m agents.lokka`: run the lokka agent."""

from agents.core.main import run
from agents.lokka.handlers import SPEC

run(SPEC)
