"""End to end in JupyterLab: edit the answer in the page, click "what if", and see the kernel's new
explanation beside the old one (the compare view), its maps drawn; then go back to the single view.

The teaching model's explanation of scene 2; one colour word of the answer changed. The screenshot
goes to build/screenshots/jupyterlab-whatif.png.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser import screenshot
from notebook_server import TOKEN, jupyter_server, notebook_page, poll

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CELLS = [
    "from tam_widget import demo_model, explain\nfrom tam_widget.teaching import PROMPT\n"
    "model, processor, make_scene = demo_model()\nexp = explain(model, processor, make_scene(2).image, PROMPT)",
    "w = exp.widget()\nw",
]

# a few hundred RGB samples of one side's first heatmap canvas
CANVAS = """(side) => {
  const c = document.querySelector(`.tam-whatif [data-side="${side}"] [data-role="heatmap"]`);
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  const px = [];
  for (let i = 0; i < d.length; i += 4 * 97) px.push(d[i], d[i + 1], d[i + 2]);
  return px;
}"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with jupyter_server("lab", tmp_path_factory.mktemp("lab"), {"whatif.ipynb": CELLS}) as url:
        yield url


def test_what_if_round_trip_in_jupyterlab(lab: str) -> None:
    with notebook_page(f"{lab}/lab/tree/whatif.ipynb?token={TOKEN}", 1500, 1400) as (page, errors, kernel):
        said = kernel("exp.text").strip("'")
        assert " red " in f" {said} "
        new = said.replace("red", "blue", 1)
        box = page.locator('.tam-whatif [data-role="whatif-text"]')
        assert box.input_value() == said  # prefilled with the answer
        box.fill(new)
        page.locator('.tam-whatif [data-role="whatif-run"]').click()
        page.wait_for_selector(
            '.tam-whatif [data-role="whatif-compare"]:not([hidden]) [data-side="b"] [data-role="token"]', timeout=60_000
        )
        assert page.locator(".tam-widget:not([data-side])").is_hidden()  # the single view gave way
        assert poll(lambda: kernel("w.what_if_comparison.b.text"), repr(new)) == repr(new)
        # the right side's answer is the new one
        n_prompt = int(kernel("w.what_if_comparison.b.n_prompt"))
        texts = page.locator('.tam-whatif [data-side="b"] [data-role="token"]').all_text_contents()
        assert "".join(texts[n_prompt:]).strip().startswith(new)
        # select the edited word: its maps differ (the words before it keep theirs)
        blue = int(kernel("w.what_if_comparison.b.find('blue')[0]"))
        page.locator(f'.tam-whatif [data-side="b"] [data-role="token"][data-index="{blue}"]').click()
        snap = page.evaluate("() => document.querySelector('.tam-whatif .tam-compare').tamCompare.snapshot()")
        assert snap["b"]["selected"] == blue and snap["a"]["selected"] == blue  # one tokenizer: token for token
        page.wait_for_function(f"() => ({CANVAS})('b').some((v) => v > 0)", timeout=15_000)  # images decode async
        a, b = page.evaluate(CANVAS, "a"), page.evaluate(CANVAS, "b")
        assert max(b) - min(b) > 50, "the new answer's map canvas is blank"
        assert a != b, "the new answer's map is drawn the same as the old one's"
        assert page.locator('.tam-whatif [data-role="whatif-error"]').is_hidden()
        page.locator(".tam-whatif").scroll_into_view_if_needed()
        screenshot(page, "jupyterlab-whatif")
        # back to the single view; a bad request shows the kernel's message, and nothing else changes
        page.locator('.tam-whatif [data-role="whatif-back"]').click()
        assert page.locator(".tam-widget:not([data-side])").is_visible()
        box.fill("   ")
        page.locator('.tam-whatif [data-role="whatif-run"]').click()
        error = page.locator('.tam-whatif [data-role="whatif-error"]')
        error.wait_for(state="visible", timeout=15_000)
        assert "empty" in error.text_content()
        assert kernel("w.what_if_comparison.b.text") == repr(new)
        assert not errors, errors
