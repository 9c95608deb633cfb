"""`python -m agents.notion`: run the notion agent."""

from agents.core.main import run
from agents.notion.handlers import SPEC

run(SPEC)
