"""`python -m agents.fizzy`: run the fizzy agent."""

from agents.launch import run
from agents.fizzy.handlers import SPEC

run(SPEC)
