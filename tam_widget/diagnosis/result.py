"""What a hallucination diagnosis found: a plain dataclass, usable without Jupyter.

In a notebook it shows itself as the reference's three-panel picture (``_repr_mimebundle_``: a
PNG, escaped HTML and plain text, so it also shows on GitHub and in nbconvert);
:meth:`Diagnosis.figure` draws the same three panels with plotly (the ``figures`` extra).
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.eagle_result import EagleResult
from . import picture as _picture
from .walk import removed_mask

if TYPE_CHECKING:
    from ..explanation import Explanation


@dataclass(frozen=True, eq=False)  # arrays: compare fields yourself
class Diagnosis:
    """One wrong answer, the correct word's EAGLE explanation, and the cut that corrects it.

    ``eagle`` explains the correct word's token at the wrong word's position (its order runs from
    the regions that most support the correct word to those that least do). ``revised[k − 1]`` is
    the answer on the image showing only the first ``k`` regions of that order, ``corrected[k − 1]``
    whether it says the correct word there. ``k`` is the longest such prefix (``None``: none),
    ``r`` the share of the image removed to get it (0: the full image is already correct; 1:
    nothing corrects it). ``explanation``: the :func:`~tam_widget.explain` run behind ``eagle``
    (EAGLE at the position, reading the correct word's id, and TAM on the wrong answer), which
    :meth:`widget` and :meth:`save_html` show; ``None`` for a diagnosis built by hand.
    """

    eagle: EagleResult
    image: np.ndarray  # (H, W, 3) uint8, the image diagnosed
    prompt: str
    answer: str  # the wrong answer (generated, or the one given)
    position: int  # the wrong word's answer token index; the correct word's token is explained there
    wrong: str  # the word the answer says at ``position``
    correct: str  # the word it should say
    correct_id: int  # the token id explained (the correct word's first token)
    revised: tuple[str, ...]  # (N,) the answer at each prefix k = 1 … N
    corrected: np.ndarray  # (N,) bool: revised[k − 1] says ``correct`` at ``position``
    k: int | None  # the corrected prefix's length, or None
    r: float  # the removed area fraction
    revised_answer: str  # the answer on the corrected image, generated at full length ("" when k is None)
    meta: dict[str, Any] = field(default_factory=dict)  # settings, counts, timings
    explanation: Explanation | None = None  # the explain() run behind eagle (EAGLE and TAM)

    @property
    def item(self) -> int:
        """The explanation's item (token index on the page) at the wrong word's position."""
        exp = self._explanation()
        return exp.item_positions.index(exp.answer_start + self.position)

    @property
    def removed(self) -> np.ndarray:
        """``(H, W)`` bool: the tail regions the cut removes (all for ``k = None``, none for ``k = N``)."""
        return removed_mask(self.eagle.order, self.eagle.regions, self.k)

    @property
    def score(self) -> np.ndarray:
        """``(N,)``: the correct token's probability on each prefix's image (EAGLE's insertion curve)."""
        return np.asarray(self.eagle.insertion_tokens[:, 0])

    @property
    def removed_area(self) -> np.ndarray:
        """``(N,)``: the share of the image each prefix removes, ``1 − region_area``."""
        return np.clip(1.0 - np.asarray(self.eagle.region_area), 0.0, 1.0)

    def summary(self) -> str:
        """One line: the wrong and correct words, and what corrects the answer."""
        head = f"Said {self.wrong!r} where {self.correct!r} is correct (answer token {self.position})"
        if self.k is None:
            return f"{head}: no prefix of EAGLE's order corrects it (r = 1)."
        if self.r == 0:
            return f"{head}: the full image already gives {self.correct!r} (r = 0); the wrong word is not the model's."
        n = self.eagle.n_regions
        return f"{head}: removing {self.r:.1%} of the image ({n - self.k} of {n} regions) corrects it."

    def picture(self) -> Any:
        """The three panels as a PIL image (numpy, PIL and scikit-image; no matplotlib): the inverted
        attribution map, the image with the removed regions dimmed and outlined, and the correct
        token's probability against the removed area with the cut marked."""
        return _picture.picture(self)

    def figure(self) -> Any:
        """The three panels as a ``plotly.graph_objects.Figure`` (``pip install 'tam-widget[figures]'``)."""
        from .figure import figure

        return figure(self)

    def widget(self, **traits: Any) -> Any:
        """The interactive widget of :attr:`explanation` on EAGLE at the wrong word, with the diagnosis
        over it: a banner that says what corrects the answer, the removed cells outlined on the image and
        the cut marked on the curves. ``traits`` set the view as in ``Explanation.widget``."""
        from ..display.widget import TAMWidget

        exp = self._explanation()
        return TAMWidget(exp, diagnosis=self, **{"method": "eagle", "selected": self.item, **traits})

    def save_html(self, path: str | Path, **traits: Any) -> Path:
        """:meth:`widget` as one self-contained offline HTML page (``Explanation.save_html``); returns its path."""
        from ..display.html import save_html

        exp = self._explanation()
        return save_html(exp, path, diagnosis=self, **{"method": "eagle", "selected": self.item, **traits})

    def _explanation(self) -> Explanation:
        if self.explanation is None:
            raise ValueError("This diagnosis has no explanation to show (built by hand): run tam_widget.diagnose.")
        return self.explanation

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        png = _picture.png(self.picture())
        src = base64.b64encode(png).decode("ascii")
        alt = html.escape(f"Hallucination diagnosis of {self.wrong!r} versus {self.correct!r}", quote=True)
        text = (
            '<div class="tam-diagnosis">'
            f'<img src="data:image/png;base64,{src}" alt="{alt}" style="max-width:100%;height:auto">'
            f"<p>{html.escape(self.summary())}</p>"
            f"<p><b>Answer:</b> {html.escape(self.answer)}</p>"
            f"<p><b>Revised answer:</b> {html.escape(self.revised_answer or '(none)')}</p></div>"
        )
        return {"image/png": src, "text/html": text, "text/plain": f"{self.summary()}\nanswer: {self.answer}"}

    def __repr__(self) -> str:
        return f"Diagnosis({self.summary()})"
