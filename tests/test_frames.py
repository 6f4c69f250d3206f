"""Frames for the dashboard: PNG encoding, what counts as an image, and the frame budget."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import gymnasium
import numpy as np
import pytest

from gymie.registry import Instance
from gymie.server import frames
from tests.watch_helpers import decode_png


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_png_round_trip(channels: int) -> None:
    image = np.random.default_rng(0).integers(0, 256, (7, 5, channels), dtype=np.uint8)
    assert np.array_equal(decode_png(frames.encode_png(image)), image)


def test_a_grey_2d_frame_and_a_non_contiguous_view_encode() -> None:
    image = np.arange(60, dtype=np.uint8).reshape(6, 10)
    assert np.array_equal(decode_png(frames.encode_png(image))[:, :, 0], image)
    view = np.arange(300, dtype=np.uint8).reshape(10, 10, 3)[::2, ::3]
    assert np.array_equal(decode_png(frames.encode_png(view)), view)


def test_pygame_reads_the_png_too() -> None:
    pygame = pytest.importorskip("pygame")
    import io

    image = np.zeros((4, 6, 3), np.uint8)
    image[1, 2] = (255, 10, 20)
    surface = pygame.image.load(io.BytesIO(frames.encode_png(image)), "frame.png")
    assert surface.get_size() == (6, 4) and tuple(surface.get_at((2, 1)))[:3] == (255, 10, 20)


def test_as_image_accepts_images_and_says_what_is_not_one() -> None:
    rgb = np.zeros((4, 5, 3), np.uint8)
    assert frames.as_image(rgb)[0] is rgb
    assert frames.as_image([rgb, rgb + 1])[0] is rgb  # a vector env's frames: the first one
    assert frames.as_image(np.zeros((2, 4, 5, 3), np.uint8))[0].shape == (4, 5, 3)  # type: ignore[union-attr]
    assert frames.as_image(None) == (None, "render() returned NoneType, not an image")
    assert frames.as_image(np.zeros((4, 5, 2), np.uint8))[1] == (
        "render() returned an array of shape [4, 5, 2], not an image"
    )
    assert (
        frames.as_image(np.zeros((4, 5, 3), np.float32))[1] == "render() returned float32 pixels, not uint8"
    )


def test_large_frames_are_subsampled_before_encoding() -> None:
    image, problem = frames.as_image(np.zeros((3000, 1500, 3), np.uint8))
    assert problem is None and image is not None and max(image.shape[:2]) <= frames.MAX_SIDE
    assert image.shape[:2] == (1000, 500)  # every 3rd pixel both ways: the aspect ratio is kept


def test_only_rgb_array_instances_can_be_watched() -> None:
    def instance(render_mode: Any) -> Instance:
        env = SimpleNamespace(render_mode=render_mode)
        return Instance(env, env)  # type: ignore[arg-type]

    assert frames.render_problem(instance("rgb_array")) is None
    for mode in (None, "human", "rgb_array_list", "ansi"):
        problem = frames.render_problem(instance(mode))
        assert problem is not None and 'render_mode="rgb_array"' in problem and repr(mode) in problem


def test_cartpole_frame_encodes_small_and_fast_enough() -> None:
    env = gymnasium.make("CartPole-v1", render_mode="rgb_array")
    env.reset(seed=0)
    image, _ = frames.as_image(env.render())
    assert image is not None
    png = frames.encode_png(image)
    assert len(png) < 30_000 and np.array_equal(decode_png(png), image)
    env.close()


def test_the_budget_spaces_renders_by_their_median_cost() -> None:
    budget = frames.FrameBudget(share=0.05)
    assert budget.wait_time(now=100.0) == 0.0
    budget.charge(0.002, now=100.0)
    assert budget.wait_time(now=100.0) == pytest.approx(0.04)
    assert budget.wait_time(now=100.05) == 0.0
    budget.charge(0.5, now=101.0)  # one slow render among quick ones does not stall the frames
    budget.charge(0.002, now=102.0)
    assert budget.wait_time(now=102.0) == pytest.approx(0.04)
    assert (budget.frames, budget.spent) == (3, pytest.approx(0.504))
