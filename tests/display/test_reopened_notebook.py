"""End to end in JupyterLab: a notebook saved with the widget's output and reopened later, no cell run again.

nbclient executes a notebook that shows the demo widget once; the test serves two copies of it and opens
each in a real JupyterLab without running anything (the kernel Lab starts never sees a cell):

- ``no-state.ipynb``: no widget state in its metadata (what JupyterLab saves by default, and what nbclient
  writes with ``store_widget_state=False``: the outputs are the same, only ``metadata.widgets`` is left out),
  never signed here (downloaded, say): Lab skips the widget renderer of an untrusted output and shows
  the sanitized ``text/html`` entry, the static picture and the escaped answer.
- ``state.ipynb``: the widget state saved (nbclient's default), signed as if saved here: Lab restores the
  anywidget model from the metadata, its ``_esm`` included, and renders the live widget from it.

Screenshots: build/screenshots/reopened-notebook.png and reopened-notebook-state.png.
"""

from __future__ import annotations

import base64
import copy
import io
import json
from collections.abc import Iterator
from typing import Any

import nbformat
import pytest
from browser import launch, screenshot
from nbclient import NotebookClient
from notebook_server import KERNEL_EVAL, TOKEN, jupyter_server
from PIL import Image
from playwright.sync_api import Page, sync_playwright

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
ANSWER = "a <script>alert(1)</script> green & plain shape"  # shown as text, never run
CELLS = [
    f"from tam_widget.cli.demo import demo_explanation\nexp = demo_explanation()\nexp.text = {ANSWER!r}",
    "exp.widget()",
]

# The open notebook's own output areas (Lab keeps other notebooks of its workspace open in hidden tabs).
OUTPUTS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const outputs = [...panel.node.querySelectorAll('.jp-OutputArea-output')];
  return {
    path: panel.context.path,
    trusted: panel.content.widgets.map((c) => c.model.trusted),
    executionCounts: panel.content.widgets.map((c) => c.model.executionCount),
    text: outputs.map((o) => o.innerText).join("\\n"),
    scripts: outputs.reduce((n, o) => n + o.querySelectorAll('script').length, 0),
    imgs: outputs.flatMap((o) => [...o.querySelectorAll('img')].map((i) => ({
      src: i.src.slice(0, 23), complete: i.complete, width: i.naturalWidth, height: i.naturalHeight }))),
  };
}"""


@pytest.fixture(scope="module")
def executed() -> dict[str, Any]:
    """The notebook run once by nbclient, widget state saved (its default), as plain JSON."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    out: dict[str, Any] = json.loads(json.dumps(nb))
    return out


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, executed: dict[str, Any]) -> Iterator[str]:
    """JupyterLab serving the two saved copies: no-state.ipynb (untrusted) and state.ipynb (trusted)."""
    no_state = copy.deepcopy(executed)
    del no_state["metadata"]["widgets"]
    # a distinct notebook: a signature is kept per content, and would trust an identical copy too
    no_state["metadata"]["tam_widget_test"] = "no-state"
    notebooks = {"no-state.ipynb": no_state, "state.ipynb": executed}
    with jupyter_server("lab", tmp_path_factory.mktemp("reopen"), notebooks, trusted=("state.ipynb",)) as url:
        yield url


def widget_output(nb: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = nb["cells"][1]["outputs"][0]["data"]
    assert {WIDGET_VIEW, "image/png", "text/html"} <= set(data)
    return data


def reopen(page: Page, lab: str, name: str) -> None:
    """Open ``name`` and wait for Lab's fresh kernel, as a user reopening it would see; run nothing."""
    page.goto(f"{lab}/lab/tree/{name}?token={TOKEN}&reset")
    page.wait_for_function(
        f"() => window.jupyterapp?.shell?.currentWidget?.context?.path === {name!r}"
        " && window.jupyterapp.shell.currentWidget.sessionContext?.session?.kernel?.status === 'idle'",
        timeout=60_000,
    )


def image_size(b64: str) -> tuple[int, int]:
    """The width and height of a base64 image."""
    with Image.open(io.BytesIO(base64.b64decode(b64))) as im:
        return im.size


def never_ran(page: Page) -> bool:
    """Nothing of the notebook ran in the kernel Lab started: ``exp`` is unknown there."""
    return str(page.evaluate(KERNEL_EVAL, "'exp' in globals()")) == "False"


def test_a_reopened_untrusted_notebook_without_widget_state_shows_the_static_picture(
    lab: str, executed: dict[str, Any]
) -> None:
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
        reopen(page, lab, "no-state.ipynb")
        page.wait_for_function(
            "() => [...window.jupyterapp.shell.currentWidget.node.querySelectorAll('.jp-OutputArea-output img')]"
            ".some((i) => i.complete && i.naturalWidth > 0)",
            timeout=30_000,
        )
        assert never_ran(page)
        shown = page.evaluate(OUTPUTS)
        assert shown["trusted"] == [False, False]  # never signed here
        assert shown["executionCounts"] == [1, 2]  # the saved outputs, no cell run
        # the picture: the text/html's JPEG, decoded at the size of the bundle's PNG
        width, height = image_size(widget_output(executed)["image/png"])
        assert shown["imgs"] == [
            {"src": "data:image/jpeg;base64,", "complete": True, "width": width, "height": height}
        ], shown["imgs"]
        assert width >= 300 and height >= 300
        # the answer, escaped: its markup shows as text and nothing of it runs
        assert f"Answer: {ANSWER}" in shown["text"] and shown["scripts"] == 0
        # a widget view (what a trusted copy shows) reads "Loading widget..." here, then "Error displaying widget"
        assert "Error displaying widget" not in shown["text"] and "Loading widget" not in shown["text"]
        page.locator(".jp-OutputArea-output img").first.scroll_into_view_if_needed()
        screenshot(page, "reopened-notebook")
        assert not errors, errors
        browser.close()


def test_a_reopened_trusted_notebook_with_widget_state_shows_the_live_widget(
    lab: str, executed: dict[str, Any]
) -> None:
    state = executed["metadata"]["widgets"][WIDGET_STATE]["state"]
    model_id = widget_output(executed)[WIDGET_VIEW]["model_id"]
    saved = state[model_id]["state"]
    assert saved["_esm"]  # anywidget keeps the front end's module in the state
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1300, "height": 950})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
        reopen(page, lab, "state.ipynb")
        page.wait_for_selector('.tam-widget [data-role="token"]', timeout=60_000)
        shown = page.evaluate(OUTPUTS)
        assert shown["trusted"] == [True, True]
        assert shown["executionCounts"] == [1, 2] and never_ran(page)  # drawn from the saved state alone
        tokens = page.locator('.tam-widget [data-role="token"]')
        texts = [t.strip() for t in tokens.all_inner_texts()]
        assert texts == [item["text"].strip() for item in saved["_meta"]["items"]]
        selected = tokens.and_(page.locator('[aria-selected="true"]'))
        assert selected.count() == 1 and selected.get_attribute("data-index") == str(saved["selected"])
        assert "Error displaying widget" not in shown["text"] and shown["scripts"] == 0
        page.locator(".tam-widget").scroll_into_view_if_needed()
        screenshot(page, "reopened-notebook-state")
        # live, not a picture: a click selects another token in the page (no kernel behind it to tell)
        other = str(saved["selected"] + 5)
        page.locator(f'.tam-widget [data-role="token"][data-index="{other}"]').click()
        page.wait_for_selector(f'.tam-widget [data-role="token"][data-index="{other}"][aria-selected="true"]')
        assert not errors, errors
        browser.close()
