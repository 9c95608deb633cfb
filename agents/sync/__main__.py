"""``python -m agents.sync VERB --env ENV``: ``agents sync VERB`` (supervisord runs ``run``)."""

import sys

from agents.cli.main import main

main(["sync", *sys.argv[1:]])
