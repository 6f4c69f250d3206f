"""A valid env whose package is missing: MissingDependency says what to install; list_envs leaves it out.

The real envs: this venv has neither Box2D (LunarLander, CarRacing) nor MuJoCo (Ant), as on a
default install; each test that relies on it skips where the package is installed.
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

import gymie
from gymie import api, dependencies, envs, vector
from gymie.client import Client, InMemoryConnection, connect
from gymie.core import Dispatcher
from gymie.exceptions import EnvironmentNotFound, InvalidParams, MissingDependency
from gymie.protocol import MAX_CLOSE_REASON
from gymie.registry import EnvRegistry
from gymie.settings import Settings
from tests.conftest import TIMEOUT, ServerProcess, running_server
from tests.remote import remote
from tests.support import NEEDS_MISSING

BOX2D = 'pip install swig && pip install "gymnasium[box2d]"'
MUJOCO = 'pip install "gymnasium[mujoco]"'
no_box2d = pytest.mark.skipif(importlib.util.find_spec("Box2D") is not None, reason="Box2D is installed")
no_mujoco = pytest.mark.skipif(importlib.util.find_spec("mujoco") is not None, reason="MuJoCo is installed")
# Gymnasium warns that the retired ids it still registers are out of date.
pytestmark = pytest.mark.filterwarnings("ignore:.*is out of date:DeprecationWarning")

CASES = [
    pytest.param("LunarLander-v3", BOX2D, marks=no_box2d),
    pytest.param("CarRacing-v3", BOX2D, marks=no_box2d),
    pytest.param("Ant-v5", MUJOCO, marks=no_mujoco),
    pytest.param("HumanoidStandup-v5", MUJOCO, marks=no_mujoco),
    pytest.param("Ant-v2", 'mujoco-py (retired; use -v5: pip install "gymnasium[mujoco]")'),
    pytest.param(NEEDS_MISSING, "the Python module `gymie_test_not_installed`"),
]


@pytest.mark.parametrize(("env_id", "needs"), CASES)
def test_a_valid_env_with_a_missing_package_says_what_to_install(env_id: str, needs: str) -> None:
    with pytest.raises(MissingDependency) as missing:
        envs.get_env(env_id)
    assert (missing.value.subject, missing.value.needs) == (env_id, needs)
    reason = f"Environment `{env_id}` is missing a dependency: {needs}"
    assert str(missing.value) == reason
    assert len(reason.encode()) <= MAX_CLOSE_REASON  # the whole hint reaches a 0.5.4 client
    assert dependencies.needs(env_id) == needs  # the cheap check agrees with make


@no_box2d
def test_make_vec_reports_it_too() -> None:
    with pytest.raises(MissingDependency) as missing:
        vector.make_vector_env("LunarLander-v3", 2, "sync", {}, {})
    assert missing.value.needs == BOX2D


def test_a_namespace_whose_package_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(dependencies.NAMESPACE_PACKAGES, "Nope", "gymie_no_such_package")
    with pytest.raises(MissingDependency) as missing:
        envs.get_env("Nope/Game-v0")
    assert missing.value.needs == "the Python module `gymie_no_such_package`"
    # ALE ids need ale-py, which gymie's atari extra installs (with its ROMs).
    assert dependencies.install_hint("ALE/Pong-v5") == 'pip install "gymie[atari]"'


def test_ids_that_name_nothing_are_still_not_found() -> None:
    for env_id in ("NoSuchEnv-v0", "gymie_no_such_module:Game-v0"):
        with pytest.raises(EnvironmentNotFound):
            envs.get_env(env_id)
    assert dependencies.needs("CartPole-v1") is None and dependencies.needs("NoSuchEnv-v0") is None


# -- list_envs --------------------------------------------------------------------------


def in_memory(settings: Settings | None = None) -> Client:
    dispatcher = Dispatcher(
        EnvRegistry(), api.overrides, settings or Settings(), backend=gymie.backends.create(Settings())
    )
    return Client(InMemoryConnection(dispatcher))


def test_list_envs_names_only_what_can_be_made() -> None:
    with in_memory() as client:
        ids = client.list_envs()
        assert "CartPole-v1" in ids and "ALE/Pong-v5" in ids
        assert not {"Ant-v2", NEEDS_MISSING} & set(ids)
        for env_id in ids:
            assert dependencies.needs(env_id) is None
        everything = client.list_envs(all=True)
    assert [entry["id"] for entry in everything if entry["available"]] == ids
    assert {"id": NEEDS_MISSING, "available": False, "needs": CASES[-1].values[1]} in everything
    assert {"id": "CartPole-v1", "available": True, "needs": None} in everything
    assert all(set(entry) == {"id", "available", "needs"} for entry in everything)


@no_box2d
def test_list_envs_follows_the_operators_allow_list() -> None:
    with in_memory(Settings(allow=["LunarLander-*", "CartPole-v1"])) as client:
        assert client.list_envs() == ["CartPole-v1"]
        assert client.list_envs(all=True) == [
            {"id": "CartPole-v1", "available": True, "needs": None},
            {"id": "LunarLander-v3", "available": False, "needs": BOX2D},
        ]
        with pytest.raises(InvalidParams):
            client.connection.call("list_envs", {"all": "yes"})


# -- a real server -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def srv() -> Iterator[ServerProcess]:
    with running_server("--import", "tests.support") as server:
        yield server


def logged_lines(server: ServerProcess, text: str, wait_for: int = 1) -> list[str]:
    deadline = time.monotonic() + TIMEOUT
    while True:
        lines = [line for line in list(server.output) if text in line]
        if len(lines) >= wait_for or time.monotonic() > deadline:
            return lines
        time.sleep(0.02)


@no_box2d
def test_a_0_5_4_client_gets_1011_and_the_install_hint(srv: ServerProcess) -> None:
    with remote(srv.url) as r:
        assert r.closed_by("make", env_id="LunarLander-v3") == (
            1011,
            f"Environment `LunarLander-v3` is missing a dependency: {BOX2D}",
        )


def test_a_json_rpc_client_gets_minus_32009_and_the_server_logs_it_once(srv: ServerProcess) -> None:
    with remote(srv.url) as r:
        for _ in range(2):
            error = r.rpc_reply("make", env_id=NEEDS_MISSING)["error"]
            assert error["code"] == -32009
            assert error["data"] == {
                "error": "MissingDependency",
                "subject": NEEDS_MISSING,
                "needs": "the Python module `gymie_test_not_installed`",
            }
        assert r.rpc("list_envs") == [e["id"] for e in r.rpc("list_envs", all=True) if e["available"]]
    warned = logged_lines(srv, f"Environment `{NEEDS_MISSING}` is missing a dependency")
    assert len(warned) == 1 and " WARNING " in warned[0]
    assert "Traceback" not in "".join(srv.output)


@no_mujoco
def test_the_python_client_raises_it_with_the_hint(srv: ServerProcess) -> None:
    with connect(srv.url) as client:
        with pytest.raises(MissingDependency) as missing:
            client.make("Ant-v5")
        assert missing.value.needs == MUJOCO and "Ant-v5" in str(missing.value)
        entries: list[dict[str, Any]] = client.list_envs(all=True)
        assert {"id": "Ant-v5", "available": False, "needs": MUJOCO} in entries
        assert "Ant-v5" not in client.list_envs()
        json.dumps(entries)  # plain data
