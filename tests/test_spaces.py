"""describe / from_description / from_jsonable over every Gymnasium space type."""

from __future__ import annotations

import json
from typing import Any

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces

from gymie import codec
from gymie.spaces import describe, from_description, from_jsonable

F32_MAX = float(np.finfo(np.float32).max)

SPACES: dict[str, spaces.Space[Any]] = {
    "Discrete": spaces.Discrete(5),
    "DiscreteStart": spaces.Discrete(3, start=-2),
    "DiscreteInt32": spaces.Discrete(4, start=1, dtype=np.int32),
    "BoxFloat32": spaces.Box(-1.5, 2.5, (3,), np.float32),
    "BoxFloat32Inf": spaces.Box(np.array([-np.inf, 0], np.float32), np.array([1, np.inf], np.float32)),
    "BoxFloat64Inf": spaces.Box(-np.inf, np.inf, (2, 3), np.float64),
    "BoxFloat16": spaces.Box(-1, 1, (2,), np.float16),
    "BoxUint8Image": spaces.Box(0, 255, (4, 4, 3), np.uint8),
    "BoxInt32NegInf": spaces.Box(-np.inf, 5, (3,), np.int32),
    "BoxInt64": spaces.Box(np.array([[-3, 0], [1, 2]]), np.array([[3, 9], [4, 2]]), dtype=np.int64),
    "BoxScalar": spaces.Box(0.0, 1.0, (), np.float64),
    "BoxBool": spaces.Box(0, 1, (2,), np.bool_),
    "MultiBinaryInt": spaces.MultiBinary(4),
    "MultiBinaryShape": spaces.MultiBinary([2, 3]),
    "MultiDiscrete": spaces.MultiDiscrete([3, 4, 2]),
    "MultiDiscreteStart": spaces.MultiDiscrete([[2, 3], [4, 5]], start=[[1, 0], [0, -1]]),
    "MultiDiscreteInt8": spaces.MultiDiscrete([3, 3], dtype=np.int8),
    "Tuple": spaces.Tuple((spaces.Discrete(2), spaces.Box(-1, 1, (2,)))),
    "Dict": spaces.Dict({"pos": spaces.Box(-1, 1, (2,)), "id": spaces.Discrete(5)}),
    "DictUnsorted": spaces.Dict({"z": spaces.Discrete(2), "a": spaces.MultiBinary(2)}, sort_keys=False),
    "Text": spaces.Text(max_length=8, min_length=2),
    "TextCharset": spaces.Text(5, min_length=0, charset="zyx01"),
    "Sequence": spaces.Sequence(spaces.Discrete(3)),
    "SequenceStackedBox": spaces.Sequence(spaces.Box(0, 1, (2,)), stack=True),
    "SequenceStackedDict": spaces.Sequence(
        spaces.Dict({"a": spaces.Discrete(3), "b": spaces.Box(-1, 1, (2,))}), stack=True
    ),
    "GraphWithEdges": spaces.Graph(spaces.Box(-1, 1, (3,)), spaces.Discrete(4)),
    "GraphNoEdges": spaces.Graph(spaces.Discrete(3), None),
    "GraphBoxEdges": spaces.Graph(spaces.Discrete(3), spaces.Box(0, 1, (2,))),
    "OneOf": spaces.OneOf([spaces.Discrete(2), spaces.Box(-1, 1, (2,))]),
    "Nested": spaces.Dict(
        {
            "tuple": spaces.Tuple((spaces.Text(3), spaces.Sequence(spaces.MultiDiscrete([2, 2])))),
            "one_of": spaces.OneOf([spaces.Dict({"x": spaces.Discrete(2, start=1)}), spaces.MultiBinary(3)]),
            "graph": spaces.Graph(spaces.Box(0, 1, (2,)), None),
        }
    ),
}

space_params = pytest.mark.parametrize("space", SPACES.values(), ids=SPACES.keys())


def strict_loads(text: str) -> Any:
    """Parse JSON as JavaScript's JSON.parse would: no NaN / Infinity literals."""

    def refuse(literal: str) -> None:
        raise ValueError(f"non-standard JSON literal {literal}")

    return json.loads(text, parse_constant=refuse)


def assert_plain_json(value: Any) -> None:
    """Only the types json.loads itself produces, all the way down."""
    if isinstance(value, dict):
        assert all(type(k) is str for k in value)
        for v in value.values():
            assert_plain_json(v)
    elif isinstance(value, list):
        for v in value:
            assert_plain_json(v)
    else:
        assert value is None or type(value) in (str, int, float, bool), repr(value)


# --- describe / from_description ------------------------------------------------------------


@space_params
def test_description_round_trips(space: spaces.Space[Any]) -> None:
    desc = describe(space)
    rebuilt = from_description(strict_loads(json.dumps(desc, allow_nan=False)))
    assert type(rebuilt) is type(space)
    assert rebuilt == space
    assert describe(rebuilt) == desc


@space_params
def test_description_is_plain_strict_json(space: spaces.Space[Any]) -> None:
    desc = describe(space)
    assert_plain_json(desc)
    assert strict_loads(json.dumps(desc, allow_nan=False)) == desc


def test_dict_keeps_key_order() -> None:
    space = SPACES["DictUnsorted"]
    assert list(describe(space)["spaces"]) == ["z", "a"]
    assert list(from_description(describe(space)).spaces) == ["z", "a"]  # type: ignore[attr-defined]


def test_text_keeps_charset_order() -> None:
    space = from_description(describe(SPACES["TextCharset"]))
    assert isinstance(space, spaces.Text)
    assert space.character_list == ("z", "y", "x", "0", "1")


LEGACY_CARTPOLE_HIGH = np.array([4.8, F32_MAX, 0.41887903, F32_MAX], dtype=np.float32)

# (space, exact json.dumps of its description): key order and number formatting are the wire format.
GOLDEN = [
    # gym's CartPole observation space as gymie 0.5.4 saw it (float32 max, not inf, for the velocities).
    (
        spaces.Box(-LEGACY_CARTPOLE_HIGH, LEGACY_CARTPOLE_HIGH, dtype=np.float32),
        '{"name": "Box", "shape": [4], "low": [-4.800000190734863, -3.4028234663852886e+38, '
        '-0.41887903213500977, -3.4028234663852886e+38], "high": [4.800000190734863, '
        "3.4028234663852886e+38, 0.41887903213500977, 3.4028234663852886e+38]}",
    ),
    (spaces.Discrete(2), '{"name": "Discrete", "n": 2}'),
    (spaces.Discrete(3, start=-1), '{"name": "Discrete", "n": 3, "start": -1}'),
    (spaces.Discrete(3, dtype=np.int32), '{"name": "Discrete", "n": 3, "dtype": "int32"}'),
    (spaces.Box(-1, 1, (1,)), '{"name": "Box", "shape": [1], "low": [-1.0], "high": [1.0]}'),
    (
        spaces.Box(0, 255, (1, 2), np.uint8),
        '{"name": "Box", "shape": [1, 2], "low": [[0, 0]], "high": [[255, 255]], "dtype": "uint8"}',
    ),
    (
        spaces.Box(np.array([-np.inf, 0.0]), np.array([np.inf, 1.0]), dtype=np.float64),
        '{"name": "Box", "shape": [2], "low": ["-Infinity", 0.0], "high": ["Infinity", 1.0], '
        '"dtype": "float64"}',
    ),
    (
        spaces.MultiBinary(3),
        '{"name": "MultiBinary", "n": 3, "shape": [3], "low": [0], "high": [1]}',
    ),
    (
        spaces.MultiBinary([2, 2]),
        '{"name": "MultiBinary", "n": [2, 2], "shape": [2, 2], "low": [0], "high": [1]}',
    ),
    (spaces.MultiDiscrete([2, 3]), '{"name": "MultiDiscrete", "nvec": [2, 3], "shape": [2]}'),
    (
        spaces.MultiDiscrete([2, 3], dtype=np.int32, start=[0, 5]),
        '{"name": "MultiDiscrete", "nvec": [2, 3], "shape": [2], "start": [0, 5], "dtype": "int32"}',
    ),
    (
        spaces.Tuple((spaces.Discrete(2), spaces.Text(2, charset="ab"))),
        '{"name": "Tuple", "spaces": [{"name": "Discrete", "n": 2}, '
        '{"name": "Text", "min_length": 1, "max_length": 2, "charset": "ab"}]}',
    ),
    (
        spaces.Sequence(spaces.Discrete(2), stack=True),
        '{"name": "Sequence", "space": {"name": "Discrete", "n": 2}, "stack": true}',
    ),
    (
        spaces.Graph(spaces.Discrete(2), None),
        '{"name": "Graph", "node_space": {"name": "Discrete", "n": 2}, "edge_space": null}',
    ),
    (
        spaces.OneOf([spaces.Discrete(2)]),
        '{"name": "OneOf", "spaces": [{"name": "Discrete", "n": 2}]}',
    ),
]


@pytest.mark.parametrize(("space", "expected"), GOLDEN, ids=[str(s) for s, _ in GOLDEN])
def test_golden_descriptions(space: spaces.Space[Any], expected: str) -> None:
    assert json.dumps(describe(space)) == expected
    assert from_description(json.loads(expected)) == space


# Gymnasium 1.x's CartPole has inf velocity bounds where gym had float32 max; the wire says so.
REAL_ENVS = [
    (
        "CartPole-v1",
        '{"name": "Box", "shape": [4], "low": [-4.800000190734863, "-Infinity", -0.41887903213500977, '
        '"-Infinity"], "high": [4.800000190734863, "Infinity", 0.41887903213500977, "Infinity"]}',
        '{"name": "Discrete", "n": 2}',
    ),
    (
        "MountainCarContinuous-v0",
        '{"name": "Box", "shape": [2], "low": [-1.2000000476837158, -0.07000000029802322], '
        '"high": [0.6000000238418579, 0.07000000029802322]}',
        '{"name": "Box", "shape": [1], "low": [-1.0], "high": [1.0]}',
    ),
]


@pytest.mark.parametrize(("env_id", "observation", "action"), REAL_ENVS, ids=[e for e, _, _ in REAL_ENVS])
def test_real_env_descriptions(env_id: str, observation: str, action: str) -> None:
    env = gymnasium.make(env_id)
    try:
        assert json.dumps(describe(env.observation_space)) == observation
        assert json.dumps(describe(env.action_space)) == action
        assert from_description(strict_loads(observation)) == env.observation_space
        assert from_description(strict_loads(action)) == env.action_space
    finally:
        env.close()


class Unknown(spaces.Space[int]):
    pass


def test_unknown_space_is_not_implemented() -> None:
    with pytest.raises(NotImplementedError, match="Unknown space"):
        describe(Unknown())
    with pytest.raises(NotImplementedError, match="Unknown space"):
        from_jsonable(Unknown(), 1)
    with pytest.raises(NotImplementedError, match="Unknown space"):
        describe(spaces.Tuple((spaces.Discrete(2), Unknown())))


BAD_DESCRIPTIONS = {
    "not a mapping": ["Discrete", 2],
    "no name": {"n": 2},
    "unknown name": {"name": "Cube", "n": 2},
    "name not str": {"name": 3},
    "missing key": {"name": "Discrete"},
    "n zero": {"name": "Discrete", "n": 0},
    "n float": {"name": "Discrete", "n": 2.5},
    "n bool": {"name": "Discrete", "n": True},
    "bad dtype": {"name": "Box", "shape": [1], "low": [0], "high": [1], "dtype": "float99"},
    "bad non-finite spelling": {"name": "Box", "shape": [1], "low": ["-inf"], "high": [1.0]},
    "low shape mismatch": {"name": "Box", "shape": [2], "low": [0.0, 0.0, 0.0], "high": [1.0, 1.0]},
    "multi binary shape mismatch": {"name": "MultiBinary", "n": 3, "shape": [4], "low": [0], "high": [1]},
    "multi discrete shape mismatch": {"name": "MultiDiscrete", "nvec": [2, 2], "shape": [3]},
    "charset not a string": {"name": "Text", "min_length": 0, "max_length": 2, "charset": 5},
    "multi char charset element": {"name": "Text", "min_length": 0, "max_length": 2, "charset": ["ab", "c"]},
    "min above max": {"name": "Text", "min_length": 3, "max_length": 2, "charset": "ab"},
    "stack not bool": {"name": "Sequence", "space": {"name": "Discrete", "n": 2}, "stack": 1},
    "bad nested": {"name": "Tuple", "spaces": [{"name": "Discrete", "n": 2}, {"name": "Nope"}]},
    "nested not a mapping": {"name": "Dict", "spaces": {"a": 3}},
}


@pytest.mark.parametrize("desc", BAD_DESCRIPTIONS.values(), ids=BAD_DESCRIPTIONS.keys())
def test_bad_descriptions_raise_value_error(desc: Any) -> None:
    with pytest.raises(ValueError):
        from_description(desc)


def test_bad_description_messages_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="Unknown space name 'Cube'"):
        from_description({"name": "Cube"})
    with pytest.raises(ValueError, match="Discrete description lacks key 'n'"):
        from_description({"name": "Discrete"})
    with pytest.raises(ValueError, match="Bad Tuple description: Unknown space name 'Nope'"):
        from_description(BAD_DESCRIPTIONS["bad nested"])


# --- from_jsonable ------------------------------------------------------------------------


@space_params
@pytest.mark.parametrize("seed", range(10))
def test_samples_survive_json(space: spaces.Space[Any], seed: int) -> None:
    space.seed(seed)
    sample = space.sample()
    value = from_jsonable(space, strict_loads(codec.encode_json(sample)))
    assert space.contains(value), (sample, value)
    assert codec.jsonable(value) == codec.jsonable(sample)


@space_params
@pytest.mark.parametrize("seed", range(10))
def test_samples_survive_msgpack(space: spaces.Space[Any], seed: int) -> None:
    space.seed(seed)
    sample = space.sample()
    value = from_jsonable(space, codec.decode_msgpack(codec.encode_msgpack(sample)))
    assert space.contains(value), (sample, value)
    assert codec.encode_msgpack(value) == codec.encode_msgpack(sample)


def test_sequence_empty_samples() -> None:
    stacked = SPACES["SequenceStackedBox"]
    value = from_jsonable(stacked, [])
    assert value.shape == (0, 2) and stacked.contains(value)
    assert from_jsonable(SPACES["Sequence"], []) == ()


def test_box_accepts_nonfinite_strings() -> None:
    space = spaces.Box(-np.inf, np.inf, (3,), np.float32)
    value = from_jsonable(space, ["Infinity", "-Infinity", 1.5])
    assert value.dtype == np.float32
    assert value.tolist() == [np.inf, -np.inf, 1.5]
    assert np.isnan(from_jsonable(space, ["NaN", 0, 0])[0])


def test_box_accepts_scalar_for_one_element() -> None:
    one = spaces.Box(-1, 1, (1,))
    assert from_jsonable(one, 0.5).shape == (1,)
    assert from_jsonable(one, [0.5]).tolist() == [0.5]
    assert from_jsonable(spaces.Box(-1, 1, ()), 0.25).shape == ()
    assert from_jsonable(spaces.Box(0, 9, (1,), np.int64), 3).tolist() == [3]


def test_box_casts_to_space_dtype() -> None:
    value = from_jsonable(spaces.Box(0, 255, (2,), np.uint8), [3, 4.0])
    assert value.dtype == np.uint8 and value.tolist() == [3, 4]
    value = from_jsonable(spaces.Box(-1, 1, (2,), np.float64), [1, 0])
    assert value.dtype == np.float64


def test_matching_arrays_are_not_copied() -> None:
    box = spaces.Box(-1, 1, (2, 2), np.float32)
    array = np.zeros((2, 2), np.float32)
    assert from_jsonable(box, array) is array
    decoded = codec.decode_msgpack(codec.encode_msgpack(array))
    assert from_jsonable(box, decoded) is decoded
    multi = spaces.MultiDiscrete([2, 2])
    array = np.zeros(2, np.int64)
    assert from_jsonable(multi, array) is array


def test_other_dtype_arrays_are_converted() -> None:
    box = spaces.Box(-1, 1, (2,), np.float32)
    value = from_jsonable(box, np.array([0.5, -0.5], np.float64))
    assert value.dtype == np.float32 and value.tolist() == [0.5, -0.5]


@pytest.mark.parametrize("data", [3, 3.0, np.int64(3), np.int32(3), np.array(3), np.float64(3.0)])
def test_discrete_accepts_integers(data: Any) -> None:
    value = from_jsonable(spaces.Discrete(5), data)
    # A plain int stays one (what JSON clients send; Discrete.contains takes it fastest).
    assert type(value) is (int if type(data) is int else np.int64) and value == 3


def test_discrete_keeps_its_dtype() -> None:
    assert type(from_jsonable(spaces.Discrete(5, dtype=np.int32), 2)) is np.int32


BAD_VALUES = [
    ("Discrete", True),
    ("Discrete", np.bool_(False)),
    ("Discrete", "3"),
    ("Discrete", 2.5),
    ("Discrete", float("nan")),
    ("Discrete", float("inf")),
    ("Discrete", None),
    ("Discrete", [1]),
    ("Discrete", {"a": 1}),
    ("Discrete", 2**70),
    ("DiscreteInt32", 2**40),
    ("BoxFloat32", [0.0, 1.0]),
    ("BoxFloat32", [0.0, 1.0, 2.0, 3.0]),
    ("BoxFloat32", [[0.0, 1.0, 2.0]]),
    ("BoxFloat32", [0.0, "1.0", 2.0]),
    ("BoxFloat32", [0.0, "inf", 2.0]),
    ("BoxFloat32", [True, False, True]),
    ("BoxFloat32", [0.0, None, 1.0]),
    ("BoxFloat32", [[0.0], 1.0, 2.0]),
    ("BoxFloat32", "Infinity"),
    ("BoxFloat32", [1 + 2j, 0, 0]),
    ("BoxUint8Image", np.full((4, 4, 3), 300)),
    ("BoxUint8Image", np.full((4, 4, 3), -1)),
    ("BoxUint8Image", np.full((4, 4, 3), 1.5)),
    ("BoxInt64", [["Infinity", 0], [1, 2]]),
    ("BoxInt64", [[float("nan"), 0], [1, 2]]),
    ("MultiBinaryInt", [0, 1, 1]),
    ("MultiBinaryInt", [0, 1, 2, "x"]),
    ("MultiDiscrete", [1, 2]),
    ("MultiDiscrete", [1, 2, 0.5]),
    ("MultiDiscrete", [True, False, True]),
    ("Tuple", [1]),
    ("Tuple", [1, [0.0, 0.0], 3]),
    ("Tuple", {"0": 1}),
    ("Tuple", 1),
    ("Dict", {"pos": [0.0, 0.0]}),
    ("Dict", {"pos": [0.0, 0.0], "id": 1, "extra": 2}),
    ("Dict", [[0.0, 0.0], 1]),
    ("Dict", {"pos": [0.0, 0.0], "id": "one"}),
    ("Text", 5),
    ("Text", ["a", "b"]),
    ("Sequence", 1),
    ("Sequence", [1, "x"]),
    ("SequenceStackedBox", [[0.0, 1.0, 2.0]]),
    ("SequenceStackedBox", [0.0, 1.0]),
    ("SequenceStackedDict", [{"a": 1, "b": [0, 0]}]),
    ("SequenceStackedDict", {"a": [1]}),
    ("GraphWithEdges", [[0.0, 0.0, 0.0]]),
    ("GraphWithEdges", {"edges": [1]}),
    ("GraphWithEdges", {"nodes": [[0.0, 0.0]], "edges": None, "edge_links": None}),
    ("GraphWithEdges", {"nodes": [[0.0, 0.0, 0.0]], "edges": [1], "edge_links": None}),
    ("GraphWithEdges", {"nodes": [[0.0, 0.0, 0.0]], "edges": [1], "edge_links": [[0, 0, 0]]}),
    ("GraphWithEdges", {"nodes": [[0.0, 0.0, 0.0]], "edges": [1], "edge_links": [[0.5, 0]]}),
    ("GraphNoEdges", {"nodes": [1, 2], "edges": [1], "edge_links": [[0, 1]]}),
    ("OneOf", [0]),
    ("OneOf", [2, 1]),
    ("OneOf", [-1, 1]),
    ("OneOf", [True, [0.5, 0.5]]),
    ("OneOf", [1.0, [0.5, 0.5]]),
    ("OneOf", [1, 1]),
    ("OneOf", {"index": 0, "value": 1}),
]


@pytest.mark.parametrize(("name", "data"), BAD_VALUES, ids=[f"{n}-{d!r}"[:60] for n, d in BAD_VALUES])
def test_bad_values_are_refused(name: str, data: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        from_jsonable(SPACES[name], data)


def test_bad_value_messages_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match=r"has shape \(2,\), expected \(3,\)"):
        from_jsonable(SPACES["BoxFloat32"], [0.0, 1.0])
    with pytest.raises(ValueError, match="must hold integers"):
        from_jsonable(SPACES["Discrete"], 2.5)
    with pytest.raises(ValueError, match="out of range for uint8"):
        from_jsonable(SPACES["BoxUint8Image"], np.full((4, 4, 3), 256))
    with pytest.raises(ValueError, match=r"keys \['pos'\], expected \['id', 'pos'\]"):
        from_jsonable(SPACES["Dict"], {"pos": [0.0, 0.0]})
    with pytest.raises(TypeError, match="Text value must be a string"):
        from_jsonable(SPACES["Text"], 5)
    for index in (True, 1.0, 2, -1):
        with pytest.raises(ValueError, match=r"OneOf index must be an int in \[0, 2\)"):
            from_jsonable(SPACES["OneOf"], [index, [0.5, 0.5]])
    assert from_jsonable(SPACES["OneOf"], [1, [0.5, 0.5]])[0] == 1


def test_value_messages_stay_short() -> None:
    with pytest.raises(ValueError) as info:
        from_jsonable(SPACES["Discrete"], ["x" * 10_000])
    assert len(str(info.value)) < 200


def test_membership_is_left_to_the_env() -> None:
    # Right form, outside the space: converted, not judged.
    assert from_jsonable(SPACES["Discrete"], 99) == 99
    assert from_jsonable(SPACES["BoxFloat32"], [9.0, 9.0, 9.0]).tolist() == [9.0, 9.0, 9.0]
    assert from_jsonable(SPACES["Text"], "!!") == "!!"
