"""README's samples work as pasted: every block parses, the cheap ones run, and ``--help`` agrees.

- shell blocks (``sh``, ``bash``, ``console``) parse with ``bash -n``, then run in a sandbox whose
  ``python``, ``gymie``, ``pip``... only record their arguments; every ``gymie`` command recorded
  must parse with gymie's own CLI, and ``examples.random_agent`` runs for real;
- Python blocks compile, and run against a real server (its URL in place of README's);
- JSON blocks parse; the JavaScript block passes ``node --check`` where Node.js is installed;
- every flag ``python -m gymie --help`` shows is in README, and every flag README's option
  tables show is in ``--help``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gymie import cli
from tests.conftest import ROOT, TIMEOUT, ServerProcess, running_server

README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
README_URL = "ws://127.0.0.1:5000/gym"
FLAG = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*")


def blocks(*languages: str) -> list[tuple[int, str]]:
    """``(line, code)`` of each fenced block in one of ``languages``."""
    return [
        (README.count("\n", 0, m.start()) + 1, m.group(2))
        for m in FENCE.finditer(README)
        if m.group(1) in languages
    ]


SHELL = blocks("sh", "bash", "console")
PYTHON = blocks("python")


def shell_code(code: str) -> str:
    """A console block's commands (its ``$ `` lines); other shell blocks as they are."""
    lines = code.splitlines()
    if any(line.startswith("$ ") for line in lines):
        return "\n".join(line[2:] for line in lines if line.startswith("$ ")) + "\n"
    return code


def test_readme_has_the_blocks_this_test_reads() -> None:
    assert len(SHELL) >= 5 and len(PYTHON) >= 5 and blocks("json") and blocks("js")


@pytest.mark.parametrize(("line", "code"), SHELL, ids=[f"line{n}" for n, _ in SHELL])
def test_shell_blocks_parse(line: int, code: str) -> None:
    proc = subprocess.run(["bash", "-n"], input=shell_code(code), capture_output=True, text=True)
    assert proc.returncode == 0, f"README.md:{line}: {proc.stderr}"


@pytest.mark.parametrize(("line", "code"), PYTHON, ids=[f"line{n}" for n, _ in PYTHON])
def test_python_blocks_compile(line: int, code: str) -> None:
    compile(code, f"README.md:{line}", "exec")


def test_json_blocks_parse() -> None:
    for line, code in blocks("json"):
        assert json.loads(code), f"README.md:{line}"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_javascript_blocks_parse(tmp_path: Path) -> None:
    for line, code in blocks("js"):
        sample = tmp_path / f"line{line}.mjs"
        sample.write_text(code)
        proc = subprocess.run(["node", "--check", str(sample)], capture_output=True, text=True)
        assert proc.returncode == 0, f"README.md:{line}: {proc.stderr}"


# -- running the shell blocks in a sandbox ------------------------------------------------

STUBS = ["python", "python3", "gymie", "pip", "node", "npm", "ray"]
LOCAL_STUBS = [
    ".venv/bin/python",
    ".venv/bin/pip",
    ".venv/bin/gymie",
    ".venv-gym/bin/pip",
    ".venv-gym/bin/gymie",
]
STUB = (  # records its name and arguments: fields end with \037, a command with \036
    '#!/bin/sh\nprintf "%s\\037" "$(basename "$0")" "$@" >> "$GYMIE_README_LOG"\n'
    'printf "\\036" >> "$GYMIE_README_LOG"\n'
)


def sandbox_run(tmp_path: Path) -> list[list[str]]:
    """Run every shell block in a sandbox; return the commands its stubs recorded (name first)."""
    log = tmp_path / "commands"
    for name in [f"bin/{stub}" for stub in STUBS] + LOCAL_STUBS + ["run_tests.sh"]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(STUB)
        path.chmod(0o755)
    (tmp_path / ".venv/bin/activate").write_text("# sourced by `. .venv/bin/activate`\n")
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env["GYMIE_README_LOG"] = str(log)
    for line, code in SHELL:
        proc = subprocess.run(
            ["bash", "-e", "-c", shell_code(code)], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert proc.returncode == 0 and proc.stderr == "", f"README.md:{line}: {proc.stderr}"
    records = log.read_text().split("\036")
    return [record.split("\037")[:-1] for record in records if record]


def gymie_args(command: list[str]) -> list[str] | None:
    """The arguments of a ``gymie`` / ``python -m gymie`` command, else None."""
    name, args = command[0], command[1:]
    if name == "gymie":
        return args
    if name.startswith("python") and args[:2] == ["-m", "gymie"]:
        return args[2:]
    return None


def test_shell_blocks_run_as_pasted(tmp_path: Path) -> None:
    commands = sandbox_run(tmp_path)
    servers = [args for args in map(gymie_args, commands) if args is not None]
    assert len(servers) >= 6, commands
    parser = cli.build_parser()
    for args in servers:
        if {"--help", "-h", "--version"} & set(args):
            continue
        cli.settings_from(parser.parse_args(args))  # a usage error exits: the test fails with it
    examples = [
        c[2] for c in commands if c[0].startswith("python") and c[1:3] and c[2].startswith("examples.")
    ]
    assert examples and all(importlib.util.find_spec(module) for module in examples)


def test_the_random_agent_example_runs(readme_server: ServerProcess) -> None:
    line = next(line for _, code in SHELL for line in code.splitlines() if "examples.random_agent" in line)
    args = line.split()[1:]  # python -m examples.random_agent URL --episodes 3
    args = [readme_server.url if arg == README_URL else arg for arg in args]
    proc = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=6 * TIMEOUT
    )
    assert proc.returncode == 0, proc.stderr


# -- running the Python blocks ---------------------------------------------------------------

NOT_RUN = {
    "gymie.start(": "serves until interrupted",
    "mlagents_envs": "needs Unity's package, which installs on Python 3.10 only",
    "resources=": "needs a server with --isolation ray and a cluster offering the resources",
}


@pytest.fixture(scope="module")
def readme_server() -> Iterator[ServerProcess]:

    with running_server() as srv:
        yield srv


@pytest.mark.parametrize(("line", "code"), PYTHON, ids=[f"line{n}" for n, _ in PYTHON])
def test_python_blocks_run(line: int, code: str, readme_server: ServerProcess, tmp_path: Path) -> None:
    for marker, why in NOT_RUN.items():
        if marker in code:
            pytest.skip(f"README.md:{line} {why}")
    if "stable_retro" in code and importlib.util.find_spec("stable_retro") is None:
        pytest.skip("stable-retro is not installed")
    sample = tmp_path / f"readme_line{line}.py"
    sample.write_text(code.replace(README_URL, readme_server.url))
    proc = subprocess.run(
        [sys.executable, str(sample)], cwd=ROOT, capture_output=True, text=True, timeout=6 * TIMEOUT
    )
    assert proc.returncode == 0, f"README.md:{line}:\n{proc.stderr}"


# -- the options -------------------------------------------------------------------------------


def help_flags() -> set[str]:
    out = subprocess.run(
        [sys.executable, "-m", "gymie", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3 * TIMEOUT,
    ).stdout
    flags: set[str] = set()
    for line in out.splitlines():
        option = re.match(r"^  (-\S.*?)(?:  |$)", line)
        if option:
            flags |= set(FLAG.findall(option.group(1)))
    return flags


def readme_table_flags() -> set[str]:
    flags: set[str] = set()
    for line in README.splitlines():
        if line.startswith("| `-"):
            flags |= set(FLAG.findall(line.split("|")[1]))
    return flags


def test_help_and_readme_list_the_same_options() -> None:
    shown = help_flags()
    assert {"--host", "--port", "--list-envs", "--version", "--log-level", "--help"} <= shown
    assert shown == readme_table_flags()
