"""The error table: every error class in it, wire codes unique, reasons as 0.5.4 worded them."""

from __future__ import annotations

import inspect
import re

import pytest

import gymie
from gymie import exceptions
from gymie.exceptions import ERRORS, GymieError, from_wire


def all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | all_subclasses(sub)
    return found


ERROR_CLASSES = sorted(
    {cls for _, cls in inspect.getmembers(exceptions, inspect.isclass) if issubclass(cls, GymieError)}
    - {GymieError},
    key=lambda cls: cls.__name__,
)

# (class, subject, the reason a client sees): 0.5.4's words for its errors, typo included.
REASONS = [
    (exceptions.InvalidMessage, "{bad", "Message `{bad` is invalid"),
    (exceptions.InvalidRequest, "['params']", "Message keys ['params'] are missing or invalid"),
    (exceptions.MethodNotFound, "nope", "Method `nope` not found"),
    (exceptions.InvalidParams, {"seed": -1}, "Parameters `{'seed': -1}` are wrong"),
    (exceptions.InstanceNotFound, "abc", "Instance `abc` not found"),
    (exceptions.EnvironmentNotFound, "Nope-v0", "Environment `Nope-v0` not found"),
    (exceptions.EnvironmentMalformed, "not an id", "Environment `not an id` is malformed"),
    (exceptions.WrongAction, "invalid_action", "Action `invalid_action` is wrong"),
    (exceptions.EnvironmentNotAllowed, "mod:Env", "Environment `mod:Env` is not allowed"),
    (exceptions.LimitExceeded, "64 environments", "Limit exceeded: 64 environments"),
    (exceptions.WorkerCrashed, "exit code -9", "Environment crashed: exit code -9"),
    (exceptions.StepTimeout, "30 s", "Environment timed out: 30 s"),
    (
        exceptions.MissingDependency,
        "Ant-v5",
        "Environment `Ant-v5` is missing a dependency: a package that is not installed",
    ),
    (exceptions.ReplyTooLarge, "200 bytes", "Reply too large: 200 bytes"),
    (exceptions.InternalError, "boom", "Internal error: boom"),
]


def test_every_error_class_is_in_the_table() -> None:
    assert set(ERROR_CLASSES) == set(ERRORS)
    assert all_subclasses(GymieError) <= set(ERRORS)


def test_every_error_class_is_exported_from_gymie() -> None:
    for cls in ERROR_CLASSES + [GymieError]:
        assert getattr(gymie, cls.__name__) is cls and cls.__name__ in gymie.__all__


def test_no_wire_code_repeats() -> None:
    codes = [spec.code for spec in ERRORS.values()]
    assert len(codes) == len(set(codes))
    # JSON-RPC reserves -32768..-32000: the standard errors and the server-error range.
    assert all(-32768 <= code <= -32000 for code in codes)


def test_close_codes_are_those_of_0_5_4_or_rfc_6455() -> None:
    assert {spec.close_code for spec in ERRORS.values()} <= {1003, 1007, 1008, 1011}
    assert ERRORS[exceptions.InvalidMessage].close_code == 1003
    assert ERRORS[exceptions.InvalidRequest].close_code == 1003
    legacy_1007 = ("MethodNotFound", "InvalidParams", "InstanceNotFound", "EnvironmentNotFound")
    legacy_1007 += ("EnvironmentMalformed", "WrongAction", "InternalError")
    for name in legacy_1007:
        assert ERRORS[getattr(exceptions, name)].close_code == 1007


def test_reasons_table_covers_every_class() -> None:
    assert sorted(cls.__name__ for cls, _, _ in REASONS) == [cls.__name__ for cls in ERROR_CLASSES]


@pytest.mark.parametrize(("cls", "subject", "reason"), REASONS, ids=[c.__name__ for c, _, _ in REASONS])
def test_reason_format(cls: type[GymieError], subject: object, reason: str) -> None:
    err = cls(subject)
    assert str(err) == err.reason == reason
    # The legacy close reason is 0.5.4's: its typo stays there, and only there.
    assert err.close_reason == reason.replace("Internal error", "Unknonwn error")
    assert err.subject == subject
    assert (err.close_code, err.code) == (ERRORS[cls].close_code, ERRORS[cls].code)


def test_error_without_subject_formats_none() -> None:
    # 0.5.4's overrides `raise EnvironmentNotFound` bare; gymie fills the id in when it can.
    assert str(exceptions.EnvironmentNotFound()) == "Environment `None` not found"


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_from_wire_round_trip(cls: type[GymieError]) -> None:
    sent = cls("the subject")
    data = {"error": cls.__name__, "subject": sent.subject}
    got = from_wire(sent.code, sent.reason, data)
    assert type(got) is cls and str(got) == str(sent) and got.subject == "the subject"
    # Without data (another server, or a client that drops it) the code alone finds the class.
    by_code = from_wire(sent.code, sent.reason)
    assert type(by_code) is cls and by_code.subject == sent.reason


def test_from_wire_falls_back_to_internal_error() -> None:
    err = from_wire(-32000, "something else")
    assert type(err) is exceptions.InternalError and err.subject == "something else"
    named = from_wire(-32000, "msg", {"error": "NoSuchError", "subject": "s"})
    assert type(named) is exceptions.InternalError and named.subject == "s"
    # The name wins over the code: a newer server's code for a known class still maps.
    assert type(from_wire(-32099, "msg", {"error": "WrongAction"})) is exceptions.WrongAction


def test_missing_dependency_carries_what_to_install_over_the_wire() -> None:
    from gymie.protocol import rpc_error

    sent = exceptions.MissingDependency("Ant-v5", 'pip install "gymnasium[mujoco]"')
    assert str(sent) == 'Environment `Ant-v5` is missing a dependency: pip install "gymnasium[mujoco]"'
    assert (sent.close_code, sent.code) == (1011, -32009)
    error = rpc_error(7, sent)["error"]
    assert error["data"] == {"error": "MissingDependency", "subject": "Ant-v5", "needs": sent.needs}
    got = from_wire(error["code"], error["message"], error["data"])
    assert type(got) is exceptions.MissingDependency and (got.subject, got.needs) == ("Ant-v5", sent.needs)
    assert str(got) == str(sent)


def test_the_javascript_client_knows_every_wire_code() -> None:
    # clients/js/src/errors.ts keeps its own ErrorCode table; it must not drift from ERRORS.
    from tests.conftest import ROOT

    source = (ROOT / "clients" / "js" / "src" / "errors.ts").read_text(encoding="utf-8")
    block = source.split("export const ErrorCode = {", 1)[1].split("}", 1)[0]
    js = {name: int(code) for name, code in re.findall(r"(\w+): (-\d+),", block)}
    jsonrpc_names = {"InvalidMessage": "ParseError"}  # JSON-RPC 2.0's own name for -32700
    assert {jsonrpc_names.get(cls.__name__, cls.__name__): spec.code for cls, spec in ERRORS.items()} == js
