"""`python -m agents.fizzy`: run the fizzy agent."""

from agents.fizzy.tools import SPEC
from agents.launch import run

run(SPEC)
