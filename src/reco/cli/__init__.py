"""The ``reco`` command: the whole pipeline on files, a demo, and an HTTP server.

Exit codes: 0 on success, 2 for bad arguments (argparse, or a parameter a model refuses), 1 for
bad data (a missing column, an unknown id, a damaged file), each with one line on stderr that
says what is wrong; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    from .commands import add_commands
    from .demo import add_demo
    from .serve import add_serve

    parser = argparse.ArgumentParser(
        prog="reco", description="reco: e-commerce customer analytics on files."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_demo(commands)
    add_commands(commands)
    add_serve(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from ..exceptions import InvalidParameterError, RecoError

    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args, parser) or 0)
    except (RecoError, OSError) as error:
        if args.debug:
            raise
        message = str(error.args[0]) if error.args and isinstance(error, KeyError) else str(error)
        print(f"reco {args.command}: error: {message}", file=sys.stderr)
        return 2 if isinstance(error, InvalidParameterError) else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
