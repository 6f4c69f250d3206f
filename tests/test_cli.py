"""The command line: ``python -m gymie`` / ``gymie`` with ``-l/--host`` and ``-p/--port``."""

from __future__ import annotations

import http.client
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import gymie
from gymie import cli
from tests.conftest import ROOT, TIMEOUT, running_server, start_server
from tests.remote import remote


def get_root(port: int) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def check_serves(url: str) -> None:
    with remote(url) as r:
        instance_id = r.make("CartPole-v1")
        assert len(r.call("reset", instance_id=instance_id)) == 4


def test_python_m_gymie_prints_the_bound_address_and_serves() -> None:
    srv = start_server()  # python -m gymie --host 127.0.0.1 --port 0
    try:
        assert srv.url.startswith("ws://127.0.0.1:") and srv.url.endswith("/gym") and srv.port > 0
        check_serves(srv.url)
        assert get_root(srv.port) == (200, b"Gymie is running...")
    finally:
        srv.stop()


def test_short_options_work_too() -> None:
    with running_server("-l", "127.0.0.1", "-p", "0") as srv:
        assert srv.url.startswith("ws://127.0.0.1:")
        check_serves(srv.url)


def test_console_script_exists() -> None:
    script = shutil.which("gymie", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the gymie console script is not installed in this venv (pip install -e .)")
    proc = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=3 * TIMEOUT)
    assert proc.returncode == 0 and "--port" in proc.stdout


def test_address_in_use_exits_with_a_clear_message() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "gymie", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=3 * TIMEOUT,
        )
    assert proc.returncode != 0
    assert f"127.0.0.1:{port} already in use" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_lists_host_and_port(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "-l HOST, --host HOST" in out and "-p PORT, --port PORT" in out


def test_defaults_are_those_of_0_5_4() -> None:
    args = cli.build_parser().parse_args([])
    assert (args.host, args.port) == ("0.0.0.0", 5000)


def test_the_dashboard_is_on_unless_ui_off() -> None:
    assert cli.settings_from(cli.build_parser().parse_args([])).ui is True
    assert cli.settings_from(cli.build_parser().parse_args(["--ui", "off"])).ui is False
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["--ui", "maybe"])


def ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback here")
def test_ipv6_host() -> None:
    srv = start_server("--host", "::1")  # the last --host wins over start_server's 127.0.0.1
    try:
        assert srv.url.startswith("ws://[::1]:")
        check_serves(srv.url)
    finally:
        srv.stop()


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out == f"gymie {gymie.__version__}\n"


def test_every_option_says_what_it_does() -> None:
    undocumented = [a.option_strings for a in cli.build_parser()._actions if a.option_strings and not a.help]
    assert undocumented == []


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_a_port_out_of_range_is_a_usage_error(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--port", port])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and f"argument -p/--port: {port} is not a port (0 to 65535)" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--max-envs", "0"], "--max-envs must be at least 1, not 0"),
        (["--max-envs-per-connection", "0"], "--max-envs-per-connection must be at least 1, not 0"),
        (["--idle-timeout", "0"], "--idle-timeout must be positive, not 0.0"),
        (["--processes", "0"], "--processes must be at least 1, not 0"),
        (["--step-timeout", "5"], "--step-timeout needs --isolation 'process'"),
    ],
)
def test_range_errors_name_the_flag(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2 and f"gymie: error: {message}" in capsys.readouterr().err


def test_list_envs_prints_what_can_be_made_then_what_is_missing() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "gymie", "--list-envs", "--import", "tests.support"]
        + ["--allow", "CartPole-*", "--allow", "gymie-test/NeedsMissing-*", "--allow", "gymie-test/Faulty-*"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3 * TIMEOUT,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "CartPole-v0",
        "CartPole-v1",
        "gymie-test/Faulty-v0",
        "",
        "Not available here (missing a dependency):",
        "gymie-test/NeedsMissing-v0  the Python module `gymie_test_not_installed`",
    ]


def test_the_console_script_imports_a_module_from_the_current_directory(tmp_path: Path) -> None:
    script = shutil.which("gymie", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the gymie console script is not installed in this venv (pip install -e .)")
    (tmp_path / "my_envs.py").write_text(
        "import gymnasium\n"
        "gymnasium.register('MyCwd-v0', entry_point='gymnasium.envs.classic_control.cartpole:CartPoleEnv')\n"
    )
    proc = subprocess.run(
        [script, "--import", "my_envs", "--list-envs", "--allow", "MyCwd-*"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=3 * TIMEOUT,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "MyCwd-v0\n", "")
