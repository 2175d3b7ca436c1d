"""A Jupyter front end (``jupyter lab`` or ``jupyter notebook``) on a free local port, for the end-to-end tests.

Fresh config, data, runtime, settings and IPython folders under ``base``, so the user's own
Jupyter setup never leaks in; the notification settings turn off the news toast that would cover
the notebook. :func:`jupyter_server` yields the base URL and terminates the server (and its
kernels) on exit. Named ``notebook_server`` rather than ``jupyter_server``: the tests' folder is on
``sys.path`` and would shadow the real ``jupyter_server`` package.
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
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
from nbformat.sign import NotebookNotary

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "tam-widget-e2e"
NOTIFICATIONS = '{"fetchNews": "false", "checkForUpdates": false}'

# the notebook the end-to-end tests run: the demo explanation, then its widget as ``w``
CELLS = [
    "from tam_widget.cli.demo import demo_explanation\nexp = demo_explanation()",
    "w = exp.widget()\nw",
]

# a page function: the running kernel's value of a Python expression (its text/plain repr)
KERNEL_EVAL = """async (expr) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const reply = await kernel.requestExecute({ code: "", silent: true, store_history: false,
    user_expressions: { x: expr } }).done;
  const x = reply.content.user_expressions.x;
  return x.status === "ok" ? x.data["text/plain"] : "error: " + x.ename + ": " + x.evalue;
}"""

# The app's own flags: the module run with ``python -m`` and what exposes window.jupyterapp.
APPS = {
    "lab": [
        "jupyterlab",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ],
    "notebook": ["notebook", "--JupyterNotebookApp.expose_app_in_browser=True"],
}


def notebook(cells: list[str]) -> dict[str, Any]:
    """An nbformat 4 notebook of code cells, with no outputs yet."""
    return {
        "cells": [
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": c} for c in cells
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_env(base: Path) -> dict[str, str]:
    """The environment of a server that sees none of the user's Jupyter settings, and imports this checkout."""
    settings = base / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(NOTIFICATIONS)
    return {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        "IPYTHONDIR": str(base / "ipython"),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }


def trust(base: Path, nb: dict[str, Any]) -> None:
    """Sign ``nb`` as trusted for a server started on ``base`` (its signature database is in the fresh data folder),
    as ``jupyter trust`` or saving it in that server would."""
    (base / "data").mkdir(parents=True, exist_ok=True)
    NotebookNotary(data_dir=str(base / "data")).sign(nbformat.from_dict(nb))


@contextmanager
def jupyter_server(
    app: str, base: Path, notebooks: dict[str, list[str] | dict[str, Any]], trusted: tuple[str, ...] = ()
) -> Iterator[str]:
    """Serve ``notebooks`` from ``base/work`` with ``app`` ("lab" or "notebook"); yields the URL.

    A notebook is given by its cells (code, no outputs yet) or as a whole nbformat 4 dict (an executed
    notebook with its outputs); those named in ``trusted`` are signed first, the others open untrusted.
    """
    work = base / "work"
    work.mkdir(parents=True, exist_ok=True)
    for name, cells in notebooks.items():
        nb = cells if isinstance(cells, dict) else notebook(cells)
        if name in trusted:
            trust(base, nb)
        (work / name).write_text(json.dumps(nb))
    port = free_port()
    module, *flags = APPS[app]
    args = [
        sys.executable, "-m", module, "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={work}", "--allow-root", *flags,
    ]  # fmt: skip
    log_path = base / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(args, env=fresh_env(base), stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_up(server, url, log_path)
            yield url
        finally:
            server.terminate()  # also shuts its kernels down
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


def _wait_until_up(server: subprocess.Popen[bytes], url: str, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
            return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Jupyter server did not start: {log.read_text()[-2000:]}") from None
            time.sleep(0.3)


def open_and_run_all(page: Any, url: str) -> None:
    """Open the notebook at ``url``, wait for its kernel, run every cell and wait for the widget's tokens."""
    page.goto(url)
    page.wait_for_function(
        "() => window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'",
        timeout=60_000,
    )
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_selector('.tam-widget [data-role="token"]', timeout=90_000)


def poll(fn: Callable[[], Any], want: Any, timeout: float = 15.0) -> Any:
    """ipywidgets batches browser changes while one is in flight: poll, do not assert once."""
    deadline = time.monotonic() + timeout
    got = fn()
    while got != want and time.monotonic() < deadline:
        time.sleep(0.2)
        got = fn()
    return got


@contextmanager
def notebook_page(
    url: str, width: int = 1300, height: int = 950
) -> Iterator[tuple[Any, list[str], Callable[[str], str]]]:
    """Chromium on the notebook at ``url`` with every cell run: ``(page, page errors, kernel)``, where
    ``kernel(expr)`` is the running kernel's repr of a Python expression."""
    from browser import launch  # tests/browser.py
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": width, "height": height})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        open_and_run_all(page, url)
        yield page, errors, lambda expr: str(page.evaluate(KERNEL_EVAL, expr))
        browser.close()
