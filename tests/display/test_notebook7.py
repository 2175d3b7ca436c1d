"""End to end in Notebook 7: the arrow keys move the selection inside the widget, not the notebook's cells.

Notebook 7 starts its Lumino application without ``bubblingKeydown``: its shortcuts listen on the
document in the *capture* phase, so command mode's ArrowUp/ArrowDown (select the cell above/below),
Enter (edit mode) and the like would run before the token list's own handler. The widget keeps
its keys (js/src/widget.ts). A real ``jupyter notebook`` server, headless chromium; the screenshot
goes to build/screenshots/notebook7.png.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser import launch, screenshot
from notebook_server import CELLS, KERNEL_EVAL, TOKEN, jupyter_server, open_and_run_all, poll
from playwright.sync_api import sync_playwright

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ACTIVE = """() => {
  const a = document.activeElement;
  const nb = window.jupyterapp.shell.currentWidget.content;
  return { index: a?.getAttribute("data-index") ?? null, inWidget: Boolean(a?.closest(".tam-widget")),
           cell: nb.activeCellIndex, mode: nb.mode };
}"""


def from_notebook(stack: str) -> bool:
    """An error thrown in Notebook 7's own bundle: 7.6 throws one at start-up, with a bare ``1+1`` notebook
    too ("reading 'schema'", from the shortcuts' settings handler); the widget's code runs from anywidget's
    blob: module instead."""
    frames = [line.strip() for line in stack.splitlines() if line.strip().startswith("at ")]
    return bool(frames) and "/static/notebook/" in frames[0]


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Notebook 7 server with fresh settings; yields its base URL."""
    with jupyter_server("notebook", tmp_path_factory.mktemp("nb7"), {"tam.ipynb": CELLS}) as url:
        yield url


def test_arrow_keys_move_the_selection_in_notebook7(notebook7: str) -> None:
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1300, "height": 950})
        errors: list[str] = []
        page.on("pageerror", lambda e: None if from_notebook(e.stack or "") else errors.append(e.stack or str(e)))
        open_and_run_all(page, f"{notebook7}/notebooks/tam.ipynb?token={TOKEN}")

        def kernel(expr: str) -> str:
            return str(page.evaluate(KERNEL_EVAL, expr))

        assert kernel("__import__('notebook').__version__").strip("'").startswith("7.")
        target = int(kernel("exp.n_prompt")) + 4  # " and" -> " blue" (a map to see in the screenshot)
        page.locator(f'.tam-widget [data-role="token"][data-index="{target}"]').click()
        assert poll(lambda: kernel("w.selected"), str(target)) == str(target)
        before = page.evaluate(ACTIVE)
        assert before["mode"] == "command" and before["inWidget"], before
        # ArrowDown is command mode's "select the cell below"; ArrowRight is not bound: both move one token
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowRight")
        want = str(target + 2)
        assert poll(lambda: kernel("w.selected"), want) == want
        page.wait_for_selector(f'.tam-widget [data-role="token"][data-index="{want}"][aria-selected="true"]')
        after = page.evaluate(ACTIVE)
        assert after == {**before, "index": want}, (before, after)  # focus kept, the notebook's cell unmoved
        page.locator(".tam-widget").scroll_into_view_if_needed()
        screenshot(page, "notebook7")
        assert not errors, errors
        browser.close()
