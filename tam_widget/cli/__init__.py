"""``tam-widget`` command line, one module per subcommand.

- ``demo [--out FILE.html] [--seed N] [--model teaching|random]`` (:mod:`.demo`): the shipped
  teaching model captions a fresh synthetic scene; the explanation is written as the interactive
  page (one self-contained HTML file) and its path printed.
- ``eval --dataset SPEC --out DIR [--model teaching|PATH] [--methods tam,cam,...] [--limit N]``
  (:mod:`.eval`): explanations scored over a dataset with the papers' metrics; resumable, and
  sharded over processes under ``accelerate launch``.
- ``parity [--golden DIR]`` (:mod:`.parity`): TAM on the reference's golden cases (or a synthetic
  case), parity with the reference, and one map drawn in the terminal.

:mod:`.args` holds the argument types and checks both share (``--seed``, an output file).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import demo, parity
from . import eval as eval_


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Every argument is checked before any work (each subcommand's ``check``: an output folder that
    does not exist, a seed out of range, a golden folder that is missing or empty); a bad one
    ends with argparse's one-line ``usage``/``error`` message on stderr and status 2, returned
    here rather than raised, never a traceback.
    """
    parser = argparse.ArgumentParser(prog="tam-widget", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for command in (demo, parity, eval_):
        command.add_parser(sub)
    try:
        args = parser.parse_args(argv)
        problem = args.check(args) if hasattr(args, "check") else None
        if problem:
            args.parser.error(problem)
    except SystemExit as e:  # argparse's --help (0) or usage error (2)
        return e.code if isinstance(e.code, int) else 2
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
