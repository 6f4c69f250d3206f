"""Checking a request's params against its method before the method runs.

:class:`ParamsCheck` says whether params fit a handler's signature, fast in the common case,
and when they do not, which parameter is wrong (``unknown parameter 'foo' for make``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from gymie.excerpts import excerpt


class ParamsCheck:
    """``inspect.Signature.bind`` with a fast path: named params checked against two frozensets.

    ``bind`` costs several µs a request; the common case (params an object, a handler without
    ``*args``/``**kwargs``) needs only two set comparisons.
    """

    def __init__(self, handler: Callable[..., Any]) -> None:
        self.signature = inspect.signature(handler)
        params = list(self.signature.parameters.values())[1:]  # the Context comes first
        simple = all(p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in params)
        self.allowed = frozenset(p.name for p in params) if simple else None
        self.required = frozenset(p.name for p in params if p.default is p.empty)

    def bind(self, ctx: Any, *args: Any, **kwargs: Any) -> None:
        """Raise TypeError exactly when ``Signature.bind`` would."""
        if not args and self.allowed is not None and self.required <= kwargs.keys() <= self.allowed:
            return
        self.signature.bind(ctx, *args, **kwargs)

    def problem(self, name: str, args: Any, kwargs: dict[str, Any]) -> str:
        """Why ``bind`` refused these params, naming the parameter: ``unknown parameter 'foo' for make``."""
        params = list(self.signature.parameters.values())[1:]  # the Context comes first
        kinds = {p.kind for p in params}
        if inspect.Parameter.VAR_KEYWORD not in kinds:
            for key in kwargs:
                if key not in {p.name for p in params}:
                    return f"unknown parameter '{excerpt(key, 40)}' for {name}"
        positional = [p for p in params if p.kind == p.POSITIONAL_OR_KEYWORD]
        if inspect.Parameter.VAR_POSITIONAL not in kinds and len(args) > len(positional):
            return f"{name} takes at most {len(positional)} positional parameters, got {len(args)}"
        for i, p in enumerate(params):
            if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                if p.name not in kwargs and not (i < len(args) and p.kind == p.POSITIONAL_OR_KEYWORD):
                    return f"missing parameter '{p.name}' for {name}"
        return f"parameters given twice for {name}"
