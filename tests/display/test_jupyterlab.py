"""End to end in JupyterLab: run a notebook that shows the widget, click a token in the browser and
read the selection back in the kernel; move the slider; set a trait from Python and see the page follow.

A real ``jupyter lab`` server on a free local port with fresh config/data/runtime folders, driven
by headless chromium. The screenshot goes to build/screenshots/jupyterlab.png.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import launch, screenshot
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.browser, pytest.mark.slow]
TOKEN = "tam-widget-e2e"

CELLS = [
    "from tam_widget.cli.demo import demo_explanation\nexp = demo_explanation()",
    "w = exp.widget()\nw",
]

KERNEL_EVAL = """async (expr) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const reply = await kernel.requestExecute({ code: "", silent: true, store_history: false,
    user_expressions: { x: expr } }).done;
  const x = reply.content.user_expressions.x;
  return x.status === "ok" ? x.data["text/plain"] : "error: " + x.ename + ": " + x.evalue;
}"""

KERNEL_EXEC = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const reply = await kernel.requestExecute({ code, store_history: false }).done;
  return reply.content.status;
}"""


def notebook(cells: list[str]) -> dict[str, Any]:
    return {
        "cells": [
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": c} for c in cells
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A JupyterLab server with fresh settings; yields its base URL."""
    base = tmp_path_factory.mktemp("lab")
    work = base / "work"
    work.mkdir()
    (work / "tam.ipynb").write_text(json.dumps(notebook(CELLS)))
    settings = base / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        "IPYTHONDIR": str(base / "ipython"),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    port = free_port()
    args = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={work}", "--LabApp.expose_app_in_browser=True",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--allow-root",
    ]  # fmt: skip
    log = (base / "server.log").open("w")
    server = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    tail = (base / "server.log").read_text()[-2000:]
                    raise RuntimeError(f"jupyter lab did not start: {tail}") from None
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()  # also shuts its kernels down
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def poll(fn: Callable[[], Any], want: Any, timeout: float = 15.0) -> Any:
    """ipywidgets batches browser changes while one is in flight: poll, do not assert once."""
    deadline = time.monotonic() + timeout
    got = fn()
    while got != want and time.monotonic() < deadline:
        time.sleep(0.2)
        got = fn()
    return got


def test_widget_round_trip_in_jupyterlab(lab: str) -> None:
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1300, "height": 950})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{lab}/lab/tree/tam.ipynb?token={TOKEN}")
        page.wait_for_function(
            "() => window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'",
            timeout=60_000,
        )
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_selector('.tam-widget [data-role="token"]', timeout=90_000)

        def kernel(expr: str) -> str:
            return str(page.evaluate(KERNEL_EVAL, expr))

        n_prompt = int(kernel("exp.n_prompt"))
        first = kernel("__import__('tam_widget.display.widget', fromlist=['_']).first_item(exp)")
        assert kernel("w.selected") == first  # the answer token with the strongest visual signal
        assert (
            page.locator(f'.tam-widget [data-role="token"][data-index="{first}"]').get_attribute("aria-selected")
            == "true"
        )
        # click a token in the browser -> the kernel's trait follows (one other than the opening one)
        target = n_prompt + 5 if first != str(n_prompt + 5) else n_prompt + 4
        page.locator(f'.tam-widget [data-role="token"][data-index="{target}"]').click()
        assert poll(lambda: kernel("w.selected"), str(target)) == str(target)
        # arrow key -> the kernel again
        page.keyboard.press("ArrowRight")
        assert poll(lambda: kernel("w.selected"), str(target + 1)) == str(target + 1)
        # the slider -> eci_scale in the kernel
        page.locator('.tam-widget [data-role="eci-scale"]').fill("0.4")
        assert poll(lambda: kernel("w.eci_scale"), "0.4") == "0.4"
        # Python sets the trait -> the page follows
        assert page.evaluate(KERNEL_EXEC, "w.selected = 3; w.colormap = 'viridis'") == "ok"
        page.wait_for_selector('.tam-widget [data-role="token"][data-index="3"].is-selected', timeout=15_000)
        assert page.locator('.tam-widget [data-role="colormap"]').input_value() == "viridis"
        snap = page.evaluate("() => document.querySelector('.tam-widget').tam.snapshot()")
        assert snap["selected"] == 3 and snap["settings"]["lambda"] == pytest.approx(0.4)
        page.locator(".tam-widget").scroll_into_view_if_needed()
        screenshot(page, "jupyterlab")
        assert not errors, errors
        browser.close()
