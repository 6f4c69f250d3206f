"""The command line's flags: the parser, one function per argument group (``gymie --help``)."""

from __future__ import annotations

import argparse

from gymie import __version__
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
)


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
