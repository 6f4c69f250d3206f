"""Every error gymie reports, and the one table that maps each to the wire.

The tree::

    GymieError
    ├── InvalidMessage          not JSON / msgpack at all            1003  -32700
    ├── InvalidRequest          not a {method, params} object       1003  -32600
    ├── MethodNotFound                                               1007  -32601
    ├── InvalidParams                                                1007  -32602
    ├── InstanceNotFound                                             1007  -32001
    ├── EnvironmentNotFound                                          1007  -32002
    ├── EnvironmentMalformed                                         1007  -32003
    ├── WrongAction                                                  1007  -32004
    ├── EnvironmentNotAllowed   refused by the operator's policy     1008  -32005
    ├── LimitExceeded           a server limit was reached           1008  -32006
    ├── WorkerCrashed           the env's worker process died        1011  -32007
    ├── StepTimeout             the env did not answer in time       1011  -32008
    ├── MissingDependency       a valid env, a package not installed 1011  -32009
    ├── ReplyTooLarge           the reply passes --max-reply-size    1008  -32010
    └── InternalError           anything else                        1007  -32603

A legacy (0.5.4) client sees an error as a WebSocket close with the close code
and :attr:`~GymieError.close_reason`; a JSON-RPC client sees an error object with
the wire code, :attr:`~GymieError.reason` as ``message`` and the class name in
``data.error``. The close reasons of the first nine and of InternalError are
0.5.4's own words, its "Unknonwn error" typo included (clients may match on it);
that typo lives only there: ``str()`` and JSON-RPC messages say "Internal error".
An error may carry a ``detail`` (``max_episode_steps must be ...``): it is then its
``reason``, while the legacy close reason keeps 0.5.4's template.

An error may carry more than its subject: the names in its class's ``extra`` are
further constructor arguments, formatted into the reason after the subject and sent
in ``data`` beside it (MissingDependency's ``needs``: what to install).

Subjects come from clients and may be huge: reasons and ``data.subject`` carry at
most an excerpt of them (``gymie.excerpts``: about 200 bytes, printable, cut with "…").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gymie.excerpts import bounded, excerpt


class GymieError(Exception):
    """Base of every error gymie reports to a client.

    ``subject`` is what the error is about (an instance id, an env id, an
    action...); ``detail``, when given, says what is wrong in words and becomes
    the ``reason``. ``str()`` gives the reason.
    """

    extra: tuple[str, ...] = ()
    """Attributes beyond ``subject`` that the reason uses and the wire carries (in this order)."""

    def __init__(self, subject: Any = None, *args: Any, detail: str | None = None) -> None:
        super().__init__(subject, *args)
        self.subject = subject
        self.detail = detail  # in __dict__, which pickles with the error (workers send errors back)

    @property
    def reason(self) -> str:
        """The human-readable reason: ``str()``, and the ``message`` of a JSON-RPC error."""
        if self.detail is not None:
            return self.detail
        return self._format(ERRORS[type(self)].template)

    @property
    def close_reason(self) -> str:
        """The reason of a legacy (0.5.4) client's close frame, in 0.5.4's words."""
        spec = ERRORS[type(self)]
        return self._format(spec.legacy or spec.template)

    def _format(self, template: str) -> str:
        return template.format(excerpt(self.subject), *(excerpt(getattr(self, k)) for k in self.extra))

    @property
    def wire_subject(self) -> Any:
        """``subject`` as ``data.subject`` carries it: itself when small, else an excerpt."""
        return bounded(self.subject)

    @property
    def close_code(self) -> int:
        """WebSocket close code for legacy connections."""
        return ERRORS[type(self)].close_code

    @property
    def code(self) -> int:
        """JSON-RPC error code."""
        return ERRORS[type(self)].code

    def __str__(self) -> str:
        return self.reason


class InvalidMessage(GymieError):
    """The message could not be decoded at all."""


class InvalidRequest(GymieError):
    """The message decoded, but is not an object with ``method`` and ``params``."""


class MethodNotFound(GymieError):
    """No method of that name."""


class InvalidParams(GymieError):
    """The params do not fit the method."""


class InstanceNotFound(GymieError):
    """Instance is not found in the registry where environments are stored."""


class EnvironmentNotFound(GymieError):
    """Environment ID is not registered as environment."""


class EnvironmentMalformed(GymieError):
    """Environment ID is not correct."""


class WrongAction(GymieError):
    """There was a problem executing the action on the environment."""


class EnvironmentNotAllowed(GymieError):
    """The operator does not allow this environment id (e.g. ``module:Name`` ids)."""


class LimitExceeded(GymieError):
    """A server limit (envs, connections, message size...) was reached."""


class WorkerCrashed(GymieError):
    """The worker process running the environment died; the instance is gone."""


class StepTimeout(GymieError):
    """The environment did not answer within the step timeout; the instance is gone."""


class MissingDependency(GymieError):
    """The environment exists, but needs a package this server has not installed.

    ``needs`` says what to install, e.g. ``pip install "gymnasium[box2d]"``.
    """

    extra = ("needs",)

    def __init__(self, subject: Any = None, needs: str = "a package that is not installed") -> None:
        super().__init__(subject, needs)
        self.needs = needs


class ReplyTooLarge(GymieError):
    """The reply would be larger than ``--max-reply-size``; it was not sent (nor, when foreseen, built)."""


class InternalError(GymieError):
    """An unexpected error inside the environment or the server."""


@dataclass(frozen=True)
class ErrorSpec:
    """How one error class travels: close code, reason template, JSON-RPC code.

    ``legacy`` is the close reason's template when it differs from ``template``.
    """

    close_code: int
    template: str
    code: int
    legacy: str | None = None


# Close codes (RFC 6455): 1003 unsupported data, 1007 invalid payload data,
# 1008 policy violation, 1011 internal error.
ERRORS: dict[type[GymieError], ErrorSpec] = {
    InvalidMessage: ErrorSpec(1003, "Message `{}` is invalid", -32700),
    InvalidRequest: ErrorSpec(1003, "Message keys {} are missing or invalid", -32600),
    MethodNotFound: ErrorSpec(1007, "Method `{}` not found", -32601),
    InvalidParams: ErrorSpec(1007, "Parameters `{}` are wrong", -32602),
    InstanceNotFound: ErrorSpec(1007, "Instance `{}` not found", -32001),
    EnvironmentNotFound: ErrorSpec(1007, "Environment `{}` not found", -32002),
    EnvironmentMalformed: ErrorSpec(1007, "Environment `{}` is malformed", -32003),
    WrongAction: ErrorSpec(1007, "Action `{}` is wrong", -32004),
    EnvironmentNotAllowed: ErrorSpec(1008, "Environment `{}` is not allowed", -32005),
    LimitExceeded: ErrorSpec(1008, "Limit exceeded: {}", -32006),
    WorkerCrashed: ErrorSpec(1011, "Environment crashed: {}", -32007),
    StepTimeout: ErrorSpec(1011, "Environment timed out: {}", -32008),
    # 1011: the server cannot do it until its operator installs something; the client did nothing wrong.
    MissingDependency: ErrorSpec(1011, "Environment `{}` is missing a dependency: {}", -32009),
    ReplyTooLarge: ErrorSpec(1008, "Reply too large: {}", -32010),
    InternalError: ErrorSpec(1007, "Internal error: {}", -32603, legacy="Unknonwn error: {}"),
}

BY_NAME: dict[str, type[GymieError]] = {cls.__name__: cls for cls in ERRORS}
BY_CODE: dict[int, type[GymieError]] = {spec.code: cls for cls, spec in ERRORS.items()}


def from_wire(code: int, message: str, data: Any = None) -> GymieError:
    """Rebuild the exception a server reported (the client side of the table)."""
    name = data.get("error") if isinstance(data, dict) else None
    cls = BY_NAME.get(name) if isinstance(name, str) else None
    cls = cls or BY_CODE.get(code, InternalError)
    subject = data.get("subject") if isinstance(data, dict) else None
    extra = [data[key] for key in cls.extra if key in data] if isinstance(data, dict) else []
    err = cls(subject if subject is not None else message, *extra)
    if err.reason != message:  # a detail, or an excerpt of the subject: keep the server's words
        err.detail = message
    return err


CLIENT_MISTAKES = (TypeError, ValueError, KeyError, IndexError, AssertionError)
"""What an env raises on params it cannot take: the client's mistake when the client chose them."""
_UNEXPECTED_KWARG = re.compile(r"unexpected keyword argument '([^']*)'")


def client_error(err: BaseException, method: str, params: Any, what: str) -> InvalidParams:
    """InvalidParams for an exception the client's params caused, naming the parameter when Python did.

    ``what`` says who refused them (``"CartPole-v1 refused its parameters"``).
    """
    text = str(err) or type(err).__name__
    match = _UNEXPECTED_KWARG.search(text)
    if match:
        return InvalidParams(params, detail=f"unknown parameter '{excerpt(match.group(1), 40)}' for {method}")
    return InvalidParams(params, detail=f"{what}: {type(err).__name__}: {excerpt(text)}")
