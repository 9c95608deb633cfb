"""`python -m agents.notion`: run the notion agent."""

from agents.launch import run
from agents.notion.tools import SPEC

run(SPEC)
