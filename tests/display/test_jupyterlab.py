"""End to end in JupyterLab: run a notebook that shows the widget, click a token in the browser and
read the selection back in the kernel; move the slider; set a trait from Python and see the page follow.

A real ``jupyter lab`` server on a free local port with fresh config/data/runtime folders, driven
by headless chromium. The screenshot goes to build/screenshots/jupyterlab.png.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

import numpy as np
import pytest
from browser import screenshot
from notebook_server import CELLS, TOKEN, jupyter_server, notebook_page, poll

pytestmark = [pytest.mark.browser, pytest.mark.slow]

KERNEL_EXEC = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const reply = await kernel.requestExecute({ code, store_history: false }).done;
  return reply.content.status;
}"""


# the same explanation with its maps streamed in row blocks, as a large one's would be (display/stream.py)
STREAM_CELLS = [
    CELLS[0],
    "from tam_widget.display.widget import TAMWidget\nw = TAMWidget(exp, stream=True)\nw",
]
SHOWN = "exp.tam.maps().image[{item}].tolist()"
LOADED = """(item) => {
  const root = document.querySelector('.tam-widget');
  const notice = root.querySelector('[data-role="map-notice"]');
  return root.tam.snapshot()?.shown === item && (notice.hidden || !notice.textContent.startsWith("Loading"));
}"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A JupyterLab server with fresh settings; yields its base URL."""
    with jupyter_server("lab", tmp_path_factory.mktemp("lab"), {"tam.ipynb": CELLS}) as url:
        yield url


def test_widget_round_trip_in_jupyterlab(lab: str) -> None:
    with notebook_page(f"{lab}/lab/tree/tam.ipynb?token={TOKEN}") as (page, errors, kernel):
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


@pytest.fixture(scope="module")
def lab_stream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A JupyterLab server of its own (a workspace another test left open cannot take the current tab)."""
    with jupyter_server("lab", tmp_path_factory.mktemp("lab-stream"), {"stream.ipynb": STREAM_CELLS}) as url:
        yield url


def test_a_streamed_explanation_asks_the_kernel_for_its_rows_and_shows_the_same_maps(lab_stream: str) -> None:
    with notebook_page(f"{lab_stream}/lab/tree/stream.ipynb?token={TOKEN}") as (page, errors, kernel):
        assert kernel("w._meta['methods']['tam']['arrays']['A']['streamed']") == "True"
        for item in (int(kernel("w.selected")), 2):
            page.evaluate(KERNEL_EXEC, f"w.selected = {item}")
            page.wait_for_function(LOADED, arg=item, timeout=15_000)  # the rows came: no "Loading" notice
            got = page.evaluate("() => document.querySelector('.tam-widget').tam.snapshot().image")
            want = ast.literal_eval(kernel(SHOWN.format(item=item)))
            assert np.abs(np.asarray(got) - np.asarray(want)).max() <= 1 / 255
        assert int(kernel("w._rows.served")) >= 1  # the page asked, the kernel answered
        assert not errors, errors
