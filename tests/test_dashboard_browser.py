"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against a real server.

A Python client steps an ``rgb_array`` CartPole while the page is open. No browser is downloaded:
``/usr/bin/chromium`` comes from Debian (``./run_tests.sh`` installs it), and a missing browser
or Playwright fails these tests rather than skipping them. Screenshots go to
``$GYMIE_TEST_ARTIFACTS`` (default ``tests/artifacts/``, git-ignored); with
``GYMIE_UPDATE_SCREENSHOT=1`` the README's ``docs/dashboard.png`` is taken again too.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import gymie.client
from tests.conftest import ROOT, TIMEOUT, ServerProcess, running_server
from tests.watch_helpers import Stepper

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "browser-token"
ARTIFACTS = Path(os.environ.get("GYMIE_TEST_ARTIFACTS") or ROOT / "tests" / "artifacts")
WAIT_MS = 3 * TIMEOUT * 1000
"""Bound of every browser wait: these tests check what the page shows, not how fast (a loaded
machine renders frames within the server's frame budget, and a browser's work, slowly)."""
pytestmark = pytest.mark.filterwarnings("ignore:.*WARN:UserWarning")

# Counts the canvas's drawn pixels that are not white, and hashes them: blank = 0 drawn pixels.
PIXELS = """(id) => {
  const c = document.getElementById(id);
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let drawn = 0, hash = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] > 0 && (d[i] < 235 || d[i + 1] < 235 || d[i + 2] < 235)) drawn++;
    hash = (Math.imul(hash, 31) + d[i] + 7 * d[i + 1] + 13 * d[i + 2] + 17 * d[i + 3]) | 0;
  }
  return {width: c.width, height: c.height, drawn, hash};
}"""

# The mean row of Pong's green pixels below the score (the agent's paddle), in canvas pixels; -1: none.
PADDLE = """(id) => {
  const c = document.getElementById(id);
  const top = Math.floor(c.height * 0.12);
  const d = c.getContext("2d").getImageData(0, top, c.width, c.height - top).data;
  let rows = 0, count = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i] < 130 && d[i + 1] > 150 && d[i + 2] < 130) { rows += Math.floor(i / 4 / c.width); count++; }
  }
  return count ? top + rows / count : -1;
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (./run_tests.sh does it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is missing: pip install '.[test]' (./run_tests.sh does it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            warm_up(chromium)
            yield chromium
        finally:
            chromium.close()


def warm_up(chromium: Any) -> None:
    """Pay Chromium's cold start here, not in the first test's waits.

    A first page starts the renderer and lays text out (fontconfig builds its cache on a first
    run): seconds on a cold machine, right after the browser or the fonts were installed.
    """
    page = chromium.new_page()
    try:
        page.set_content("<p id='warm'>gymie</p>", timeout=2 * WAIT_MS)
        page.wait_for_selector("#warm", timeout=2 * WAIT_MS)
    finally:
        page.close()


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with running_server("--token", TOKEN) as srv:
        yield srv


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        assert errors == [], errors
    finally:
        context.close()


@pytest.fixture
def agent(server: ServerProcess) -> Iterator[gymie.client.Client]:
    with gymie.client.connect(server.url, token=TOKEN, timeout=TIMEOUT) as client:
        yield client


def open_dashboard(page: Any, server: ServerProcess) -> None:
    response = page.goto(f"{server.http}/ui?token={TOKEN}")
    assert response.status == 200
    page.wait_for_selector("#status.ok")


def number(text: str) -> int:
    return int(text.replace(",", ""))


def pixels(page: Any, canvas: str) -> dict[str, int]:
    return page.evaluate(PIXELS, canvas)  # type: ignore[no-any-return]


def test_an_instance_appears_with_its_env_id_and_its_step_count_goes_up(
    server: ServerProcess, agent: gymie.client.Client, page: Any
) -> None:
    env = agent.make("CartPole-v1", render_mode="rgb_array")
    env.reset(seed=0)
    with Stepper(env):
        open_dashboard(page, server)
        row = page.locator(f"#instances tr[data-id='{env.instance_id}']")
        row.wait_for()
        assert row.locator("td[data-col=env_id]").inner_text() == "CartPole-v1"
        first = number(row.locator("td[data-col=steps]").inner_text())
        page.wait_for_function(
            "([id, n]) => Number(document.querySelector(`#instances tr[data-id='${id}'] td[data-col=steps]`)"
            ".textContent.replaceAll(',', '')) > n",
            arg=[env.instance_id, first],
        )
        assert page.locator("#connections tbody tr").count() >= 2  # the agent, and the page's own


def test_the_live_frame_shows_the_env_and_changes(
    server: ServerProcess, agent: gymie.client.Client, page: Any
) -> None:
    env = agent.make("CartPole-v1", render_mode="rgb_array")
    env.reset(seed=0)
    with Stepper(env):
        open_dashboard(page, server)
        page.click(f"#instances tr[data-id='{env.instance_id}']")
        page.wait_for_selector("#frame[data-seq]")
        before = pixels(page, "frame")
        seq = int(page.get_attribute("#frame", "data-seq"))
        page.wait_for_function("n => Number(document.getElementById('frame').dataset.seq) > n + 2", arg=seq)
        after = pixels(page, "frame")
        assert (before["width"], before["height"]) == (600, 400)
        assert before["drawn"] > 1000 and after["drawn"] > 1000, (before, after)  # the cart and pole
        assert before["hash"] != after["hash"]  # they moved
        assert "live" in page.inner_text("#frame-status")
        page.wait_for_function(
            "() => document.getElementById('detail-stats').textContent.includes('episodes')"
        )
        if os.environ.get("GYMIE_UPDATE_SCREENSHOT") == "1":
            page.click("#play-make")
            page.wait_for_selector("#play-status:has-text('your move')")
            for key in ["ArrowRight", "ArrowLeft", "ArrowRight", "ArrowRight"]:
                page.keyboard.press(key)
            time.sleep(1.0)
            page.evaluate("() => window.scrollTo(0, 0)")
            page.screenshot(path=str(ROOT / "docs" / "dashboard.png"), full_page=True)


def test_an_instance_without_rgb_array_says_so(
    page: Any, server: ServerProcess, agent: gymie.client.Client
) -> None:
    env = agent.make("CartPole-v1")
    env.reset(seed=0)
    open_dashboard(page, server)
    page.click(f"#instances tr[data-id='{env.instance_id}']")
    page.wait_for_selector("#frame-status.warn")
    assert "rgb_array" in page.inner_text("#frame-status")
    assert page.get_attribute("#frame", "data-renderable") == "false"


def test_the_play_panel_steps_cartpole_from_key_presses(server: ServerProcess, page: Any) -> None:
    open_dashboard(page, server)
    page.click("#play-make")
    page.wait_for_selector("#play-status:has-text('your move')")
    assert pixels(page, "play-canvas")["drawn"] > 1000  # the frame after reset
    start = pixels(page, "play-canvas")
    for key in ["ArrowRight", "ArrowRight", "ArrowLeft", "ArrowRight", "ArrowLeft"]:
        page.keyboard.press(key)
    page.wait_for_function("() => document.getElementById('play-steps').textContent === '5'")
    assert pixels(page, "play-canvas")["hash"] != start["hash"]
    # The page's env is a real instance: the watch tables count its steps too.
    page.wait_for_selector("#instances td[data-col=steps]:text-is('5')")


def test_the_play_panel_plays_pong_in_real_time_with_a_held_key(server: ServerProcess, page: Any) -> None:
    open_dashboard(page, server)
    page.focus("#play-env")  # offers only the envs this server can make: Pong stays (ale-py is installed)
    page.select_option("#play-env", "ALE/Pong-v5")
    assert "↑ up" in page.text_content("#play-keys")
    page.click("#play-make")
    page.wait_for_selector("#play-status:has-text('ALE/Pong-v5: your move')")
    start = pixels(page, "play-canvas")
    assert start["drawn"] > 10_000  # Pong's court, not a blank canvas
    page.check("#play-auto")  # the page steps on a timer, with the held key's action
    page.focus("#play-canvas")
    steps = "() => Number(document.getElementById('play-steps').textContent.replace(/,/g, ''))"
    paddle = {}
    for key, until in (("ArrowUp", 40), ("ArrowDown", 80)):
        page.keyboard.down(key)
        page.wait_for_function(f"{steps} >= {until}")  # a function: the page's CSP forbids eval
        page.keyboard.up(key)
        paddle[key] = page.evaluate(PADDLE, "play-canvas")
    page.uncheck("#play-auto")
    assert pixels(page, "play-canvas")["hash"] != start["hash"]
    assert paddle["ArrowUp"] > 0 and paddle["ArrowDown"] > paddle["ArrowUp"] + 20  # the keys move the paddle
    settled = page.evaluate(steps)
    time.sleep(0.3)
    assert page.evaluate(steps) <= settled + 2  # auto-step off: the page stops (a step in flight ends)
    page.wait_for_selector("#instances td[data-col=env_id]:text-is('ALE/Pong-v5')")


@pytest.mark.parametrize("query", ["?token=wrong", ""])
def test_a_wrong_or_missing_token_shows_a_clear_error_page(
    page: Any, server: ServerProcess, query: str
) -> None:
    response = page.goto(f"{server.http}/ui{query}")
    assert response.status == 401
    assert "a valid token is required" in page.inner_text("h1")
    assert "/ui?token=" in page.inner_text("#gymie-error")
