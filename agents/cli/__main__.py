"""``python -m agents.cli VERB …``: the ``agents`` command without its console script
(supervisord runs ``python -m agents.cli sync run --env ENV`` for the periodic sync)."""

from agents.cli.main import main

main()
