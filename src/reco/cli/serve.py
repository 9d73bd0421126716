"""``reco serve``: the HTTP service of :mod:`reco.serve` on uvicorn."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_serve"]


def add_serve(commands) -> None:
    parser = commands.add_parser(
        "serve",
        help="serve a saved recommender over HTTP (needs reco[serve])",
        description="GET /recommend, POST /recommend_for_items, GET /similar, GET /health; "
        "a new model file at the same path is picked up without a restart.",
        epilog="example:\n  reco serve model.npz --port 8000 --unknown popular",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model_file", metavar="MODEL_FILE", help="a file written by model.save")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument(
        "--unknown",
        choices=["raise", "popular", "empty"],
        default="raise",
        help="users the model has not seen: 404 (raise), popular items, or an empty list",
    )
    parser.add_argument(
        "--reload-interval", type=float, default=1.0, help="seconds between file checks"
    )
    parser.add_argument(
        "--mmap",
        action="store_true",
        help="map the model's arrays instead of copying them: a large model loads in a "
        "fraction of the time and --workers share one copy; replace the file only by "
        "rename (reco fit does), never in place with cp",
    )
    parser.set_defaults(run=_serve)


def _serve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if not 1 <= args.port <= 65535:
        parser.error(f"--port must be in 1..65535; got {args.port}")
    if args.workers < 1:
        parser.error(f"--workers must be at least 1; got {args.workers}")
    if args.reload_interval < 0:
        parser.error(f"--reload-interval must be >= 0; got {args.reload_interval}")
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        print("reco serve needs Starlette and uvicorn: pip install 'reco[serve]'", file=sys.stderr)
        return 2
    from ..exceptions import RecoError
    from ..serve import run

    try:
        run(
            args.model_file,
            host=args.host,
            port=args.port,
            workers=args.workers,
            unknown_users=args.unknown,
            reload_interval=args.reload_interval,
            mmap=args.mmap,
        )
    except (RecoError, OSError) as error:
        print(f"reco serve: cannot serve {args.model_file!r}: {error}", file=sys.stderr)
        return 1
    return 0
