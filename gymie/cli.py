"""Command line: ``python -m gymie`` / ``gymie`` starts the server."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from gymie.settings import DEFAULT_MAX_MESSAGE_SIZE, Settings


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (0.5.4's ``-l/--host`` and ``-p/--port``, plus policy options)."""
    parser = argparse.ArgumentParser(prog="gymie", description="Serve Gymnasium environments over WebSocket.")
    parser.add_argument("-l", "--host", default="0.0.0.0", help="address to bind (default: %(default)s)")
    parser.add_argument(
        "-p", "--port", default=5000, type=int, help="port; 0 picks a free one (default: %(default)s)"
    )
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import a module first: one that registers envs (e.g. ale_py) or defines @override hooks",
    )
    parser.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="PATTERN",
        help="only env ids matching this glob may be made (repeatable)",
    )
    parser.add_argument(
        "--allow-module-ids",
        action="store_true",
        help="allow `module:Name` env ids, which import a module the client names",
    )
    parser.add_argument(
        "--max-message-size",
        type=int,
        default=DEFAULT_MAX_MESSAGE_SIZE,
        metavar="BYTES",
        help="largest WebSocket frame accepted (default: %(default)s)",
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


def main(argv: list[str] | None = None) -> None:
    """Parse ``argv`` and serve until interrupted; exit 1 when the address cannot be bound."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for module in args.imports:
        importlib.import_module(module)
    settings = Settings(
        allow=args.allow, allow_module_ids=args.allow_module_ids, max_message_size=args.max_message_size
    )
    from gymie import server  # eventlet loads only now

    try:
        sock = server.listen(args.host, args.port)
    except OSError as err:
        print(f"gymie: {err.strerror or err}", file=sys.stderr)
        raise SystemExit(1) from None
    try:
        server.serve(sock, settings)
    except KeyboardInterrupt:
        pass
