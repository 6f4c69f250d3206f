"""Command line: ``python -m gymie`` / ``gymie`` starts the server."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import os
import re
import sys
from collections.abc import Callable
from typing import TypeVar

from gymie import __version__, logs
from gymie.server import security
from gymie.settings import (
    DEFAULT_HANDSHAKE_TIMEOUT,
    DEFAULT_MAX_BATCH,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_MAX_NUM_ENVS,
    DEFAULT_MAX_PARAMS_SIZE,
    DEFAULT_MAX_REPLY_SIZE,
    DEFAULT_RAY_SCHEDULE_TIMEOUT,
    DEFAULT_SEND_TIMEOUT,
    DEFAULT_SHUTDOWN_TIMEOUT,
    ISOLATION_MODES,
    Settings,
)

T = TypeVar("T")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (0.5.4's ``-l/--host`` and ``-p/--port``, plus policy options)."""
    parser = argparse.ArgumentParser(prog="gymie", description="Serve Gymnasium environments over WebSocket.")
    parser.add_argument("--version", action="version", version=f"gymie {__version__}")
    parser.add_argument("-l", "--host", default="0.0.0.0", help="address to bind (default: %(default)s)")
    parser.add_argument(
        "-p", "--port", default=5000, type=port_number, help="port; 0 picks a free one (default: %(default)s)"
    )
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import a module first: one that registers envs (e.g. ale_py) or defines @override hooks",
    )
    _policy(parser.add_argument_group("environments"))
    _serving(parser.add_argument_group("processes"))
    _limits(parser.add_argument_group("limits"))
    _transport(parser.add_argument_group("transport"))
    _request_bounds(parser.add_argument_group("what one request may cost"))
    _security(parser.add_argument_group("security"))
    _cluster(parser.add_argument_group("cluster (Ray)"))
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="INFO: start-up, connections, envs made and closed; WARNING: problems only "
        "(default: %(default)s)",
    )
    parser.add_argument("--access-log", action="store_true", help="log one line per HTTP request")
    return parser


def port_number(text: str) -> int:
    """A TCP port, 0 to 65535 (argparse turns the ValueError into a usage error)."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port (0 to 65535)")
    return port


def _policy(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--list-envs",
        action="store_true",
        help="print the env ids this server can make (after --allow and --import), then those "
        "missing a dependency with what to install, and exit",
    )
    group.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="PATTERN",
        help="only env ids matching this glob may be made (repeatable)",
    )
    group.add_argument(
        "--allow-module-ids",
        action="store_true",
        help="allow `module:Name` env ids, which import a module the client names",
    )


def _serving(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--isolation",
        choices=ISOLATION_MODES,
        default="none",
        help="`process`: each env in its own worker process, so a crash or a slow step "
        "spares the other clients; `ray`: each env in a Ray actor, anywhere in a cluster "
        "(see --ray-address) (default: %(default)s)",
    )
    group.add_argument(
        "--step-timeout",
        type=float,
        metavar="SECONDS",
        help="with --isolation process or ray: kill a worker (actor) whose env does not answer in time",
    )
    group.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="serve the port from N processes (SO_REUSEPORT); an env belongs to the process, "
        "so to the connection, that made it (default: %(default)s)",
    )
    group.add_argument(
        "--shutdown-timeout",
        type=float,
        default=DEFAULT_SHUTDOWN_TIMEOUT,
        metavar="SECONDS",
        help="on SIGTERM/SIGINT, time to finish requests in flight (default: %(default)s)",
    )


def _limits(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--max-envs", type=int, metavar="N", help="live envs per server process")
    group.add_argument("--max-envs-per-connection", type=int, metavar="N", help="live envs per connection")
    group.add_argument(
        "--max-message-size",
        type=int,
        default=DEFAULT_MAX_MESSAGE_SIZE,
        metavar="BYTES",
        help="largest incoming WebSocket message; larger ones close with 1009 (default: %(default)s)",
    )
    group.add_argument(
        "--max-connections",
        type=int,
        default=DEFAULT_MAX_CONNECTIONS,
        metavar="N",
        help="open WebSockets per server process; more get HTTP 503 (default: %(default)s)",
    )
    group.add_argument(
        "--idle-timeout", type=float, metavar="SECONDS", help="close WebSockets silent this long (1001)"
    )
    group.add_argument(
        "--handshake-timeout",
        type=float,
        default=DEFAULT_HANDSHAKE_TIMEOUT,
        metavar="SECONDS",
        help="drop connections that have not sent a whole HTTP request by then (default: %(default)s)",
    )


def _transport(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--send-timeout",
        type=float,
        default=DEFAULT_SEND_TIMEOUT,
        metavar="SECONDS",
        help="close a WebSocket (and its envs) whose peer has not read for this long while a "
        "reply waits to be sent (default: %(default)s)",
    )


def _request_bounds(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--max-reply-size",
        type=int,
        default=DEFAULT_MAX_REPLY_SIZE,
        metavar="BYTES",
        help="larger replies are replaced by a ReplyTooLarge error (default: %(default)s)",
    )
    group.add_argument(
        "--max-batch",
        type=int,
        default=DEFAULT_MAX_BATCH,
        metavar="N",
        help="requests per JSON-RPC batch (default: %(default)s)",
    )
    group.add_argument(
        "--max-num-envs",
        type=int,
        default=DEFAULT_MAX_NUM_ENVS,
        metavar="N",
        help="largest num_envs of make_vec (default: %(default)s)",
    )
    group.add_argument(
        "--max-params-size",
        type=int,
        default=DEFAULT_MAX_PARAMS_SIZE,
        metavar="BYTES",
        help="largest env kwargs / reset options, as JSON would count them (default: %(default)s)",
    )
    group.add_argument(
        "--max-workers",
        type=int,
        metavar="N",
        help="processes requests may start: env workers and async vector sub-processes "
        "(default: 16 per core, at most a quarter of the open-file limit)",
    )
    group.add_argument(
        "--worker-memory",
        type=int,
        metavar="MB",
        help="with --isolation process: address-space limit of each worker (RLIMIT_AS)",
    )
    group.add_argument(
        "--share-instances",
        action="store_true",
        help="let any connection use any instance id, as 0.5.4 did (default: ids belong to their connection)",
    )


def _security(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--token",
        default=security.token_from_env(),
        help=f"require `Authorization: Bearer TOKEN` or `?token=TOKEN` (default: ${security.TOKEN_ENV}; "
        "prefer the variable: arguments show in `ps`); an empty token is refused",
    )
    group.add_argument(
        "--allowed-origins",
        action="append",
        default=[],
        metavar="ORIGINS",
        help="browser origins that may connect, comma-separated or repeated (`*` for any); "
        "clients sending no Origin header are not affected",
    )
    group.add_argument(
        "--ui",
        choices=["on", "off"],
        default="on",
        help="the dashboard at /ui and its read-only WebSocket /watch, behind the same token and "
        "origin checks as /gym (default: %(default)s)",
    )


def _cluster(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        help="with --isolation ray: the Ray cluster to join (host:port); default: $RAY_ADDRESS, "
        "else a local cluster started with the server",
    )
    group.add_argument(
        "--ray-resources-allowed",
        action="append",
        default=[],
        metavar="NAME",
        help="a resource a client may ask for in make's `resources` (num_cpus, num_gpus, or a custom "
        "one); repeatable; none by default",
    )
    group.add_argument(
        "--ray-schedule-timeout",
        type=float,
        default=DEFAULT_RAY_SCHEDULE_TIMEOUT,
        metavar="SECONDS",
        help="a make whose actor no node can place within this time fails (default: %(default)s)",
    )


def settings_from(args: argparse.Namespace) -> Settings:
    """The Settings the parsed arguments describe.

    Raises:
        ValueError: a value is out of range.
    """
    settings = Settings(
        allow=args.allow,
        allow_module_ids=args.allow_module_ids,
        max_message_size=args.max_message_size,
        isolation=args.isolation,
        step_timeout=args.step_timeout,
        imports=args.imports,
        max_envs=args.max_envs,
        max_envs_per_connection=args.max_envs_per_connection,
        max_connections=args.max_connections,
        idle_timeout=args.idle_timeout,
        handshake_timeout=args.handshake_timeout,
        shutdown_timeout=args.shutdown_timeout,
        token=args.token,
        allowed_origins=security.parse_origins(args.allowed_origins),
        access_log=args.access_log,
        send_timeout=args.send_timeout,
        max_reply_size=args.max_reply_size,
        max_batch=args.max_batch,
        max_num_envs=args.max_num_envs,
        max_params_size=args.max_params_size,
        worker_memory=args.worker_memory,
        share_instances=args.share_instances,
        ui=args.ui == "on",
        ray_address=args.ray_address,
        ray_resources_allowed=args.ray_resources_allowed,
        ray_schedule_timeout=args.ray_schedule_timeout,
    )
    if args.max_workers is not None:
        settings.max_workers = args.max_workers
    settings.check()
    return settings


def flag_names(message: str, parser: argparse.ArgumentParser) -> str:
    """``message`` with every Settings field it names written as its flag (``max_envs`` → ``--max-envs``)."""
    flags = {a.dest: a.option_strings[-1] for a in parser._actions if a.option_strings}
    fields = {f.name for f in dataclasses.fields(Settings)} | {"processes"}
    names = "|".join(sorted((re.escape(name) for name in fields & flags.keys()), key=len, reverse=True))
    return re.sub(rf"(?<![\w-])({names})(?![\w-])", lambda m: flags[m.group(1)], message)


def main(argv: list[str] | None = None) -> None:
    """Parse ``argv`` and serve until SIGTERM/SIGINT; exit 1 when the address cannot be bound."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from(args)
        if args.processes < 1:
            raise ValueError(f"processes must be at least 1, not {args.processes}")
    except ValueError as err:
        parser.error(flag_names(str(err), parser))
    logs.configure(args.log_level)
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m gymie` has it: --import finds ./my_module.py
    for module in args.imports:
        importlib.import_module(module)
    if args.list_envs:
        print_envs(settings)
        return
    if args.processes > 1:
        from gymie.server import supervisor  # no eventlet in the parent

        run = lambda: supervisor.run(args.host, args.port, settings, args.processes)  # noqa: E731
        raise SystemExit(_bound(lambda: _available(run)))
    from gymie.server import serving  # eventlet loads only now

    sock = _bound(lambda: serving.listen(args.host, args.port))
    _available(lambda: serving.serve(sock, settings))


def _available(call: Callable[[], T]) -> T:
    from gymie.envs import BackendUnavailable

    try:
        return call()
    except BackendUnavailable as err:  # say, no Ray cluster at --ray-address
        print(f"gymie: {err}", file=sys.stderr)
        raise SystemExit(1) from None


def print_envs(settings: Settings) -> None:
    """Print the ids ``list_envs`` returns, then the others with what they need."""
    from gymie.envs import catalog  # imports Gymnasium: only when asked

    entries = catalog(settings)
    for entry in entries:
        if entry["available"]:
            print(entry["id"])
    missing = [entry for entry in entries if not entry["available"]]
    if missing:
        print("\nNot available here (missing a dependency):")
        width = max(len(entry["id"]) for entry in missing)
        for entry in missing:
            print(f"{entry['id']:<{width}}  {entry['needs']}")


def _bound(call: Callable[[], T]) -> T:
    try:
        return call()
    except OSError as err:
        print(f"gymie: {err.strerror or err}", file=sys.stderr)
        raise SystemExit(1) from None
