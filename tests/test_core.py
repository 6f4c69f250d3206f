"""The I/O-free core: a message in, a Reply out, with no sockets."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from gymie.core import Dispatcher, Session
from gymie.exceptions import EnvironmentNotFound
from gymie.protocol import Reply, truncate_reason
from tests import support
from tests.support import new_dispatcher

pytestmark = pytest.mark.filterwarnings("ignore:.*WARN:UserWarning")


@pytest.fixture
def dispatcher() -> Dispatcher:
    return new_dispatcher()


@pytest.fixture
def session(dispatcher: Dispatcher) -> Session:
    return dispatcher.open_session()


def call(dispatcher: Dispatcher, session: Session, method: str, **params: Any) -> Reply:
    return dispatcher.handle(json.dumps({"method": method, "params": params}), session)


def text(reply: Reply) -> str:
    assert reply.close is None, reply.close
    assert len(reply.frames) == 1 and isinstance(reply.frames[0], str)
    return reply.frames[0]


def make(dispatcher: Dispatcher, session: Session, env_id: str = "CartPole-v1", **params: Any) -> str:
    return text(call(dispatcher, session, "make", env_id=env_id, **params))


# -- legacy protocol --------------------------------------------------------


def test_make_reset_step_close(dispatcher: Dispatcher, session: Session) -> None:
    instance_id = make(dispatcher, session)
    assert len(instance_id) == 32 and int(instance_id, 16) >= 0
    obs = json.loads(text(call(dispatcher, session, "reset", instance_id=instance_id)))
    assert len(obs) == 4 and all(isinstance(x, float) for x in obs)
    obs, reward, done, info = json.loads(
        text(call(dispatcher, session, "step", instance_id=instance_id, action=1))
    )
    assert (len(obs), reward, done, info) == (4, 1.0, False, {})
    assert text(call(dispatcher, session, "close", instance_id=instance_id)) == "true"
    assert instance_id not in dispatcher.envs


def test_done_carries_timelimit_truncated(dispatcher: Dispatcher, session: Session) -> None:
    instance_id = make(dispatcher, session, max_episode_steps=2, seed=0)
    call(dispatcher, session, "reset", instance_id=instance_id)
    first = json.loads(text(call(dispatcher, session, "step", instance_id=instance_id, action=0)))
    second = json.loads(text(call(dispatcher, session, "step", instance_id=instance_id, action=1)))
    assert first[2:] == [False, {}]
    assert second[2:] == [True, {"TimeLimit.truncated": True}]


@pytest.mark.parametrize("seed", [0, 7])
def test_same_seed_same_trajectory(dispatcher: Dispatcher, session: Session, seed: int) -> None:
    def trajectory(seed: int) -> list[Any]:
        instance_id = make(dispatcher, session, seed=seed)
        frames = [text(call(dispatcher, session, "reset", instance_id=instance_id))]
        frames += [
            text(call(dispatcher, session, "step", instance_id=instance_id, action=a)) for a in (0, 1, 1)
        ]
        frames.append(text(call(dispatcher, session, "action_sample", instance_id=instance_id)))
        return frames

    assert trajectory(seed) == trajectory(seed)
    assert trajectory(seed) != trajectory(seed + 1)


@pytest.mark.parametrize(
    ("message", "code", "reason"),
    [
        ("nope", 1003, "Message `nope` is invalid"),
        ('"just a string"', 1003, 'Message `"just a string"` is invalid'),
        ('{"params": {}}', 1003, "Message keys ['params'] are missing or invalid"),
        ('{"method": "foo", "params": {}}', 1007, "Method `foo` not found"),
        ('{"method": "render", "params": {}}', 1007, "Method `render` not found"),
        ('{"method": "make", "params": 5}', 1007, "Parameters `5` are wrong"),
        ('{"method": "make", "params": {"env_id": 5}}', 1007, "Parameters `{'env_id': 5}` are wrong"),
        (
            '{"method": "make", "params": {"env_id": "CartPole-v1", "foo": 1}}',
            1007,
            "Parameters `{'env_id': 'CartPole-v1', 'foo': 1}` are wrong",
        ),
        (
            '{"method": "make", "params": {"env_id": "CartPole-v1", "seed": -1}}',
            1007,
            "Parameters `{'seed': -1}` are wrong",
        ),
        (
            '{"method": "step", "params": {"instance_id": "x"}}',
            1007,
            "Parameters `{'instance_id': 'x'}` are wrong",
        ),
        ('{"method": "close", "params": {"instance_id": ["x"]}}', 1007, "Instance `['x']` not found"),
        (
            '{"method": "make", "params": {"env_id": "CartPole-v99"}}',
            1007,
            "Environment `CartPole-v99` not found",
        ),
        (
            '{"method": "make", "params": {"env_id": "os:system"}}',
            1008,
            "Environment `os:system` is not allowed",
        ),
    ],
)
def test_errors_close_with_0_5_4_codes(
    dispatcher: Dispatcher, session: Session, message: str, code: int, reason: str
) -> None:
    assert dispatcher.handle(message, session) == Reply(close=(code, reason))


def test_bytes_frames_are_json_too(dispatcher: Dispatcher, session: Session) -> None:
    reply = dispatcher.handle(b'{"method": "make", "params": {"env_id": "CartPole-v1"}}', session)
    assert len(text(reply)) == 32


def test_env_failures_become_unknown_errors(dispatcher: Dispatcher, session: Session) -> None:
    made = call(dispatcher, session, "make", env_id="gymie-test/Faulty-v0", fail_on="make")
    assert made.close == (1007, "Unknonwn error: boom in make")
    instance_id = make(dispatcher, session, "gymie-test/Faulty-v0", fail_on="reset")
    assert call(dispatcher, session, "reset", instance_id=instance_id).close == (
        1007,
        "Unknonwn error: boom in reset",
    )
    instance_id = make(dispatcher, session, "gymie-test/Faulty-v0", fail_on="step")
    call(dispatcher, session, "reset", instance_id=instance_id)
    assert call(dispatcher, session, "step", instance_id=instance_id, action=1).close == (
        1007,
        "Action `1` is wrong",
    )


def test_non_finite_and_numpy_values_are_strict_json(dispatcher: Dispatcher, session: Session) -> None:
    instance_id = make(dispatcher, session, "gymie-test/Faulty-v0")
    call(dispatcher, session, "reset", instance_id=instance_id)
    frame = text(call(dispatcher, session, "step", instance_id=instance_id, action=1))

    def refuse(constant: str) -> None:
        raise ValueError(constant)

    _, _, _, info = json.loads(frame, parse_constant=refuse)
    assert info == {"nan": "NaN", "np": 2.5}


def test_failing_close_still_forgets_the_instance(dispatcher: Dispatcher, session: Session) -> None:
    instance_id = make(dispatcher, session, "gymie-test/Faulty-v0", fail_on="close")
    assert call(dispatcher, session, "close", instance_id=instance_id).close == (
        1007,
        "Unknonwn error: boom in close",
    )
    assert instance_id not in dispatcher.envs


def test_end_session_closes_only_its_envs(dispatcher: Dispatcher) -> None:
    mine, other = dispatcher.open_session(), dispatcher.open_session()
    ids = [make(dispatcher, mine, "gymie-test/Faulty-v0") for _ in range(3)]
    kept = make(dispatcher, other, "gymie-test/Faulty-v0")
    before = len(support.FaultyEnv.closed)
    assert sorted(dispatcher.end_session(mine)) == sorted(ids)
    assert len(support.FaultyEnv.closed) == before + 3
    assert list(dispatcher.envs) == [kept]


def test_module_ids_need_the_operators_consent(dispatcher: Dispatcher, session: Session) -> None:
    env_id = "tests.support:gymie-test/Faulty-v0"
    assert call(dispatcher, session, "make", env_id=env_id).close == (
        1008,
        f"Environment `{env_id}` is not allowed",
    )
    dispatcher.settings.allow_module_ids = True
    assert len(make(dispatcher, session, env_id)) == 32


def test_allow_list(dispatcher: Dispatcher, session: Session) -> None:
    dispatcher.settings.allow = ["CartPole-*"]
    assert len(make(dispatcher, session)) == 32
    reply = call(dispatcher, session, "make", env_id="MountainCarContinuous-v0")
    assert reply.close == (1008, "Environment `MountainCarContinuous-v0` is not allowed")


def test_overrides_replace_get_env_and_process_step(dispatcher: Dispatcher, session: Session) -> None:
    def get_env(env_id: str, seed: int | None = None) -> Any:
        if env_id != "mine":
            raise EnvironmentNotFound  # 0.5.4 overrides raise it bare
        return support.FaultyEnv()

    dispatcher.overrides.set("get_env", get_env)
    dispatcher.overrides.set("process_step", lambda step: (step[0].tolist(), float(step[1]) * 2, step[2], {}))
    assert call(dispatcher, session, "make", env_id="other").close == (1007, "Environment `other` not found")
    instance_id = make(dispatcher, session, "mine")
    call(dispatcher, session, "reset", instance_id=instance_id)
    assert json.loads(text(call(dispatcher, session, "step", instance_id=instance_id, action=0))) == [
        [1.0] * 4,
        2.0,
        False,
        {},
    ]
    with pytest.raises(ValueError, match="Functions available"):
        dispatcher.overrides.set("reset", get_env)


@pytest.mark.parametrize("name", list(support.SPACES))
def test_every_space_type_round_trips(dispatcher: Dispatcher, session: Session, name: str) -> None:
    instance_id = make(dispatcher, session, f"gymie-test/{name}-v0", seed=3)
    description = json.loads(text(call(dispatcher, session, "action_space", instance_id=instance_id)))
    assert description["name"] == type(support.SPACES[name]).__name__
    call(dispatcher, session, "reset", instance_id=instance_id)
    for _ in range(3):
        action = json.loads(text(call(dispatcher, session, "action_sample", instance_id=instance_id)))
        step = call(dispatcher, session, "step", instance_id=instance_id, action=action)
        assert json.loads(text(step))[3]["action_ok"] is True


def test_truncate_reason_keeps_utf8_whole() -> None:
    assert truncate_reason("a" * 200) == "a" * 123
    cut = truncate_reason("€" * 100)
    assert cut == "€" * 41 and len(cut.encode()) == 123
    assert truncate_reason("id \udab2 x") == "id ? x"  # a lone surrogate from a JSON escape


def test_lone_surrogate_in_an_id_gets_a_clean_close(dispatcher: Dispatcher, session: Session) -> None:
    reply = dispatcher.handle('{"method": "reset", "params": {"instance_id": "ab\\udab2cd"}}', session)
    assert reply == Reply(close=(1007, "Instance `ab\\udab2cd` not found"))  # escaped, as repr() does


# -- JSON-RPC 2.0 -----------------------------------------------------------


def rpc(dispatcher: Dispatcher, session: Session, payload: Any) -> Any:
    reply = dispatcher.handle(json.dumps(payload), session)
    assert reply.close is None
    return json.loads(reply.frames[0]) if reply.frames else None


def test_jsonrpc_round_trip_and_errors_keep_the_connection(dispatcher: Dispatcher, session: Session) -> None:
    made = rpc(
        dispatcher,
        session,
        {"jsonrpc": "2.0", "id": 1, "method": "make", "params": {"env_id": "CartPole-v1"}},
    )
    instance_id = made["result"]["instance_id"]
    reset = rpc(
        dispatcher,
        session,
        {"jsonrpc": "2.0", "id": "r", "method": "reset", "params": {"instance_id": instance_id, "seed": 0}},
    )
    assert reset["id"] == "r" and len(reset["result"]["observation"]) == 4
    bad = rpc(
        dispatcher,
        session,
        {"jsonrpc": "2.0", "id": 2, "method": "step", "params": {"instance_id": instance_id, "action": 7}},
    )
    assert bad["error"]["code"] == -32004 and bad["error"]["data"] == {"error": "WrongAction", "subject": 7}
    good = rpc(dispatcher, session, {"jsonrpc": "2.0", "id": 3, "method": "step", "params": [instance_id, 1]})
    assert set(good["result"]) == {"observation", "reward", "terminated", "truncated", "info"}
    # Once a connection speaks JSON-RPC, even garbage gets an error object, not a close.
    parse = rpc(dispatcher, session, "not json")  # a JSON string, not a request
    assert parse["error"]["code"] == -32600
    garbage = dispatcher.handle("{{{", session)
    assert json.loads(garbage.frames[0])["error"]["code"] == -32700


@pytest.mark.parametrize("extra", [{}, {"render": False}])  # a plain step, and one the general path takes
def test_a_first_jsonrpc_step_that_fails_still_makes_the_session_jsonrpc(
    dispatcher: Dispatcher, session: Session, extra: dict[str, Any]
) -> None:
    params = {"instance_id": "0" * 32, "action": 0, **extra}
    step = {"jsonrpc": "2.0", "id": 1, "method": "step", "params": params}
    first = json.loads(text(dispatcher.handle(json.dumps(step), session)))
    assert first["error"]["code"] in (-32001, -32602)
    assert session.rpc
    reply = dispatcher.handle(json.dumps({"method": "server_info", "params": {}}), session)
    assert json.loads(text(reply))["error"]["code"] == -32600  # answered as JSON-RPC, not closed


def test_jsonrpc_batches_and_notifications(dispatcher: Dispatcher, session: Session) -> None:
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "make", "params": {"env_id": "CartPole-v1"}},
        {"jsonrpc": "2.0", "method": "make", "params": {"env_id": "CartPole-v1"}},
        {"jsonrpc": "2.0", "id": 2, "method": "nope"},
        {"jsonrpc": "1.0", "id": 3, "method": "make"},
    ]
    replies = rpc(dispatcher, session, batch)
    assert [r["id"] for r in replies] == [1, 2, 3]
    assert [r.get("error", {}).get("code") for r in replies] == [None, -32601, -32600]
    assert len(dispatcher.envs) == 2  # the notification ran too
    assert rpc(dispatcher, session, [{"jsonrpc": "2.0", "method": "nope"}]) is None
    assert rpc(dispatcher, session, [])["error"]["code"] == -32600


def test_numpy_in_rpc_results(dispatcher: Dispatcher, session: Session) -> None:
    made = rpc(
        dispatcher,
        session,
        {"jsonrpc": "2.0", "id": 1, "method": "make", "params": {"env_id": "gymie-test/BoxUint8-v0"}},
    )
    instance_id = made["result"]["instance_id"]
    reset = rpc(
        dispatcher,
        session,
        {"jsonrpc": "2.0", "id": 2, "method": "reset", "params": {"instance_id": instance_id}},
    )
    assert np.asarray(reset["result"]["observation"]).shape == (4, 4, 3)
