"""What the browser tests share: the live service handle, the watched page, its console, screenshots,
and the steps many tests take on the page (sign up or in, draw, wait for the answer)."""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image
from playwright.sync_api import ConsoleMessage, Page, expect

PERCENT = re.compile(r"^(\d+(\.\d)?|<0\.1)%$")


@dataclass
class LiveService:
    """A running service (on the trained model): where it answers and its admin's credentials."""

    url: str
    admin: tuple[str, str]


@dataclass
class Console:
    """What a page printed as errors: console errors and uncaught exceptions."""

    errors: list[str] = field(default_factory=list)

    def record(self, message: ConsoleMessage) -> None:
        """Keep console messages of type error."""
        if message.type == "error":
            self.errors.append(message.text)

    def unexpected(self, *allowed_statuses: int) -> list[str]:
        """Errors other than the browser's own report of an HTTP status the test provoked on purpose."""
        expected = tuple(f"status of {status}" for status in allowed_statuses)
        return [error for error in self.errors if not any(part in error for part in expected)]


@dataclass
class WebPage:
    """A fresh browser page on the live service, with its console watched."""

    page: Page
    console: Console
    service: LiveService


@dataclass
class Screenshots:
    """Where the README's screenshots go; ``folder`` None means they are not taken (the default)."""

    folder: Path | None

    def take(self, page: Page, name: str, full_page: bool = False) -> None:
        """Screenshot the page as ``<folder>/<name>`` when screenshots are on; otherwise do nothing."""
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        save_screenshot(page, self.folder / name, full_page)


def save_screenshot(page: Page, path: Path, full_page: bool = False) -> None:
    """Screenshot the page as a small PNG (a 256-colour palette is plenty for a UI) for the README."""
    shot = Image.open(io.BytesIO(page.screenshot(full_page=full_page, animations="disabled")))
    small = shot.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def unique(prefix: str) -> str:
    """A username no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def register_in_page(page: Page, username: str, password: str) -> None:
    """Create an account with the page's form (the page logs the new account in)."""
    page.get_by_test_id("show-register").click()
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("register").click()
    expect(page.get_by_test_id("whoami")).to_contain_text(username)


def log_in(page: Page, username: str, password: str) -> None:
    """Log in with the page's form."""
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("login").click()
    expect(page.get_by_test_id("whoami")).to_contain_text(username)


def draw_with_mouse(page: Page, strokes: list[list[tuple[float, float]]], height: float = 150) -> None:
    """Draw ``strokes`` on the canvas with mouse events: press, move through each point, release."""
    box = page.get_by_test_id("draw-canvas").bounding_box()
    assert box is not None
    left, top = box["x"] + 60, box["y"] + (box["height"] - height) / 2
    for stroke in strokes:
        points = [(left + x * height, top + y * height) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=6)
        page.mouse.up()


def touch_stroke(page: Page, points: list[dict[str, float]]) -> None:
    """Slide one finger through ``points`` (page coordinates) with Chromium's touch input (CDP).

    The finger rests a moment on the last point before lifting, as people do: a lift at full speed
    makes Chromium start a fling, and the next touch then only stops the fling.
    """
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [points[0]]})
    for point in points[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    page.wait_for_timeout(200)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [points[-1]]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


UNSURE_BELOW = 0.7  # the web page asks to check a reading below this (calibrated) confidence


def expect_prediction(web: WebPage, expected: str) -> str:
    """Wait for the answer and check the page shows ``expected`` with its confidences, and asks to check
    the reading exactly when its confidence is under ``UNSURE_BELOW``.
    """
    page = web.page
    prediction = page.get_by_test_id("prediction")
    expect(prediction).to_be_visible()
    expect(page.get_by_test_id("confidence")).to_have_text(PERCENT)
    text = prediction.inner_text()
    assert text == expected
    expect(page.get_by_test_id("char-confidence")).to_have_count(len(text))
    shown = page.get_by_test_id("confidence").inner_text()
    confidence = 0.0 if shown.startswith("<") else float(shown.rstrip("%")) / 100
    if abs(confidence - UNSURE_BELOW) > 0.005:  # the page shows a rounded percentage
        expect(page.get_by_test_id("unsure")).to_have_count(1 if confidence < UNSURE_BELOW else 0)
    return text
