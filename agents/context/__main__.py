"""`python -m agents.context`: run the context agent."""

from agents.context.tools import SPEC
from agents.launch import run

run(SPEC)
