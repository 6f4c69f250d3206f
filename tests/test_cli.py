"""The command line: ``python -m gymie`` / ``gymie`` with ``-l/--host`` and ``-p/--port``."""

from __future__ import annotations

import http.client
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gymie import cli
from tests.conftest import ROOT, TIMEOUT, start_server
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
    srv = start_server("-l", "127.0.0.1", "-p", "0")
    try:
        assert srv.url.startswith("ws://127.0.0.1:")
        check_serves(srv.url)
    finally:
        srv.stop()


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
