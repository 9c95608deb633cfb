"""What the store and sync verbs share: ``--env``/``--json`` and printing."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from agents.cli.run import print_table

__all__ = ["common_parser", "emit", "table"]


def common_parser() -> argparse.ArgumentParser:
    """The ``--env`` and ``--json`` options every store and sync verb takes."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--env",
        "-e",
        default=os.environ.get("AGENT_ENV", "local"),
        help="environment (default: $AGENT_ENV or local)",
    )
    common.add_argument("--json", action="store_true", help="print JSON")
    return common


def emit(args: argparse.Namespace, data: Any, text: str | None = None) -> None:
    """``data`` as JSON with ``--json`` (or when there is no text form), else ``text``."""
    if args.json or text is None:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(text)


def table(args: argparse.Namespace, rows: list[dict[str, Any]], columns: list[str]) -> None:
    """``rows`` as a table (JSON with ``--json``)."""
    if args.json:
        emit(args, rows)
    elif rows:
        print_table(rows, columns)
    else:
        print("(none)")
