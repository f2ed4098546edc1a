"""What the browser tests share: the live service handle, the watched page, its console, screenshots."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image
from playwright.sync_api import ConsoleMessage, Page


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
