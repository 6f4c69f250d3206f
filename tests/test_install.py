"""What ``pip install .`` brings: enough to render classic-control envs (pygame) with no extra."""

from __future__ import annotations

import importlib.metadata

from packaging.requirements import Requirement


def test_the_default_install_brings_pygame_through_gymnasium_classic_control() -> None:
    # Read from the installed metadata: what pip really resolved for `pip install .`.
    required = [Requirement(text) for text in importlib.metadata.requires("gymie") or []]
    default = {req.name: req for req in required if req.marker is None}
    assert "classic-control" in default["gymnasium"].extras
    brought = [Requirement(text) for text in importlib.metadata.requires("gymnasium") or []]
    pygame = [
        req
        for req in brought
        if req.name in ("pygame", "pygame-ce")
        and req.marker
        and req.marker.evaluate({"extra": "classic-control"})
    ]
    assert pygame
    # Not smuggled in by the test extra: the tests see what a user gets.
    assert not [req for req in required if req.name in ("pygame", "pygame-ce")]
    assert importlib.metadata.version(pygame[0].name)
