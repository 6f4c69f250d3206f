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
    └── InternalError           anything else                        1007  -32603

A legacy (0.5.4) client sees an error as a WebSocket close with the close code
and the reason; a JSON-RPC client sees an error object with the wire code, the
reason as ``message`` and the class name in ``data.error``. The reasons of the
first nine and of InternalError are 0.5.4's own words (its "Unknonwn" typo
included, since clients may match on it).

An error may carry more than its subject: the names in its class's ``extra`` are
further constructor arguments, formatted into the reason after the subject and sent
in ``data`` beside it (MissingDependency's ``needs``: what to install).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class GymieError(Exception):
    """Base of every error gymie reports to a client.

    ``subject`` is what the error is about (an instance id, an env id, an
    action...); ``str()`` gives the full reason a client sees.
    """

    extra: tuple[str, ...] = ()
    """Attributes beyond ``subject`` that the reason uses and the wire carries (in this order)."""

    def __init__(self, subject: Any = None, *args: Any) -> None:
        super().__init__(subject, *args)
        self.subject = subject

    @property
    def reason(self) -> str:
        """The human-readable reason, as sent on the wire."""
        return ERRORS[type(self)].template.format(self.subject, *(getattr(self, k) for k in self.extra))

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


class InternalError(GymieError):
    """An unexpected error inside the environment or the server."""


@dataclass(frozen=True)
class ErrorSpec:
    """How one error class travels: close code, reason template, JSON-RPC code."""

    close_code: int
    template: str
    code: int


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
    InternalError: ErrorSpec(1007, "Unknonwn error: {}", -32603),
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
    return cls(subject if subject is not None else message, *extra)
