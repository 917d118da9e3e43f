"""The ``userstream`` command: ``check``, ``soak`` and ``watch`` a connector project."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from userstream.cli import check, soak, watch


def parser() -> argparse.ArgumentParser:
    commands = argparse.ArgumentParser(
        prog="userstream", description="Review and watch a userstream connector project."
    )
    subcommands = commands.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (check, soak, watch):
        module.register(subcommands)
    return commands


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    result: int = arguments.run(arguments)
    return result


if __name__ == "__main__":
    sys.exit(main())
