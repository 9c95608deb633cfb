"""`python -m agents.fizzy`: run the fizzy agent."""

from agents.core.main import run
from agents.fizzy.handlers import SPEC

run(SPEC)
