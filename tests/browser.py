"""Headless Debian chromium through Playwright, offline, for the browser tests and bench_widget.

Never ``playwright install``: the browser is the system's chromium (``apt-get install chromium``,
which scripts/setup.sh does), or the one ``$TAM_CHROMIUM`` names.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

SCREENSHOTS = Path(os.environ.get("TAM_SCREENSHOTS", Path(__file__).resolve().parents[1] / "build" / "screenshots"))


def chromium_path() -> str:
    """The chromium executable, or a clear error that says how to get one."""
    for candidate in (os.environ.get("TAM_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        found = candidate and shutil.which(candidate)
        if found:
            return found
    raise RuntimeError(
        "The browser tests need chromium: `apt-get install chromium` (scripts/setup.sh does it as root), "
        "or set TAM_CHROMIUM to a Chrome/Chromium executable. Never `playwright install`."
    )


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=chromium_path(), args=FLAGS)


def screenshot(page: Any, name: str, **kwargs: Any) -> Path:
    """Save a screenshot under build/screenshots (or $TAM_SCREENSHOTS) to look at by eye."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), **kwargs)
    return path


class Guard:
    """Records page errors, console errors, dialogs and every request that would leave the file."""

    def __init__(self, context: Any, page: Any) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []

        def route(r: Any) -> None:
            if r.request.url.startswith("file:"):
                r.continue_()
            else:
                self.requests.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def check(self) -> None:
        assert not self.errors, self.errors
        assert not self.requests, f"the page tried to fetch {self.requests}"
        assert not self.dialogs, f"a dialog opened: {self.dialogs}"
