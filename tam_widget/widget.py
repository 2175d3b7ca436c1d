"""``TAMWidget``: the notebook view of an :class:`~tam_widget.explanation.Explanation`.

A thin anywidget: the maps' inputs cross once as one binary buffer plus JSON metadata
(:mod:`tam_widget.wire`) and the images as PNG; the browser recomputes every view itself. Only
the small traits below sync back from the browser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anywidget
import traitlets

from .explanation import Explanation
from .wire import encode

STATIC = Path(__file__).parent / "static"
COLORMAPS = ("jet", "viridis")
MISSING = (
    "export default { render({ el }) { el.textContent = 'The tam-widget front end is not built: reinstall "
    "tam-widget or run npm install && npm run build in js/.'; } };"
)


def bundle() -> Path:
    """The bundled front end, or a FileNotFoundError that says how to build it."""
    path = STATIC / "widget.js"
    if not path.exists():
        raise FileNotFoundError(
            f"The widget's front end {path} is missing. Reinstall tam-widget (pip install -e . builds it with npm) "
            "or run `npm install && npm run build` in js/."
        )
    return path


class TAMWidget(anywidget.AnyWidget):  # type: ignore[misc]
    """Tokens, per-token heatmaps, text relevance, top candidates and the ECI slider for one explanation."""

    # read when the class is made; a missing bundle gives a widget that says how to build it
    _esm = STATIC / "widget.js" if (STATIC / "widget.js").exists() else MISSING
    _css = STATIC / "widget.css" if (STATIC / "widget.css").exists() else ""

    _data = traitlets.Bytes(help="A, E, s, R and n_visible in one little-endian buffer (see wire.py)").tag(sync=True)
    _meta = traitlets.Dict(help="Items, views, frames, top candidates and the buffer's layout").tag(sync=True)
    _images = traitlets.List(traitlets.Bytes(), help="One PNG per image or video frame").tag(sync=True)

    selected = traitlets.Int(0, help="The item shown: 0..P-1 the prompt's tokens, then the answer's").tag(sync=True)
    eci_scale = traitlets.Float(1.0, help="ECI scale lambda in [0, 2]: 1 is TAM, 0 turns ECI off").tag(sync=True)
    eci = traitlets.Bool(True, help="Apply estimated causal inference (off: CAM + filter)").tag(sync=True)
    filter = traitlets.Bool(True, help="Apply the rank Gaussian filter").tag(sync=True)
    opacity = traitlets.Float(0.5, help="Heatmap opacity over the image, in [0, 1]").tag(sync=True)
    colormap = traitlets.Unicode("jet", help="'jet' (as in the paper) or 'viridis' (perceptually uniform)").tag(
        sync=True
    )
    group_words = traitlets.Bool(False, help="Show tokens grouped into words").tag(sync=True)

    def __init__(self, explanation: Explanation, **kwargs: Any) -> None:
        if not isinstance(explanation, Explanation):
            raise TypeError(
                f"TAMWidget needs an Explanation (from tam_widget.explain), got {type(explanation).__name__}."
            )
        bundle()
        data, meta, images = encode(explanation)
        self.explanation = explanation
        kwargs.setdefault("selected", explanation.n_prompt if explanation.n_answer else 0)
        super().__init__(_data=data, _meta=meta, _images=images, **kwargs)

    @traitlets.validate("selected")
    def _check_selected(self, proposal: dict[str, Any]) -> int:
        n = len(self._meta.get("items", [])) if self._meta else None
        value = int(proposal["value"])
        if n is not None and not 0 <= value < n:
            raise traitlets.TraitError(f"selected must be an item index in [0, {n}), got {value}.")
        return value

    @traitlets.validate("eci_scale")
    def _check_scale(self, proposal: dict[str, Any]) -> float:
        return _in_range("eci_scale", proposal["value"], 0.0, 2.0)

    @traitlets.validate("opacity")
    def _check_opacity(self, proposal: dict[str, Any]) -> float:
        return _in_range("opacity", proposal["value"], 0.0, 1.0)

    @traitlets.validate("colormap")
    def _check_colormap(self, proposal: dict[str, Any]) -> str:
        if proposal["value"] not in COLORMAPS:
            raise traitlets.TraitError(f"colormap must be one of {COLORMAPS}, got {proposal['value']!r}.")
        return str(proposal["value"])

    def select(self, word: str) -> int:
        """Select the last item whose text is ``word``; returns its index."""
        hits = self.explanation.find(word)
        if not hits:
            raise ValueError(f"No token {word!r} among {self.explanation.item_texts}.")
        self.selected = hits[-1]
        return hits[-1]


def _in_range(name: str, value: Any, lo: float, hi: float) -> float:
    v = float(value)
    if not lo <= v <= hi:
        raise traitlets.TraitError(f"{name} must be in [{lo}, {hi}], got {v}.")
    return v
