"""Command line: ``python -m gymie`` / ``gymie`` starts the server (its flags: :mod:`gymie.flags`)."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import os
import re
import sys
from collections.abc import Callable
from typing import TypeVar

from gymie import logs
from gymie.flags import build_parser
from gymie.server import security
from gymie.settings import Settings

T = TypeVar("T")


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
