"""``tam-widget`` command line, one module per subcommand.

- ``demo [--out FILE.html] [--seed N] [--model teaching|random]`` (:mod:`.demo`): the shipped
  teaching model captions a fresh synthetic scene; the explanation is written as the interactive
  page (one self-contained HTML file) and its path printed.
- ``parity [--golden DIR]`` (:mod:`.parity`): TAM on the reference's golden cases (or a synthetic
  case), parity with the reference, and one map drawn in the terminal.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import demo, parity


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="tam-widget", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for command in (demo, parity):
        command.add_parser(sub)
    args = parser.parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
