"""`python -m agents.lokka`: run the lokka agent."""

from agents.launch import run
from agents.lokka.tools import SPEC

run(SPEC)
