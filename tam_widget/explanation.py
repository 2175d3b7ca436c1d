"""The plain result of :func:`tam_widget.explain`: tokens, views, images, candidates, metadata, and
one result per attribution method.

Usable without Jupyter. Saved to and loaded from one ``.safetensors`` file by :mod:`tam_widget.io`
(tensors plus a JSON header, no pickle); shown by :mod:`tam_widget.display`, which this module
reaches only when asked to display.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import params
from .core.result import TAMResult
from .explanation_maps import ExplanationMaps
from .families.base import View


@dataclass
class Explanation(ExplanationMaps):
    """Every token's explanation and what a view needs to show it.

    Positions index the model's sequence (``L`` of them: input, then answer). Items are the
    explained tokens: the prompt's words (``prompt_positions``), then every answer token.
    ``results`` holds one result per method that ran (``{"tam": TAMResult}``), on the model's
    device; ``method`` names the one shown first. The maps (``maps``, ``view_maps``, ``class_map``,
    ``contrast``, ``cells``) come from :class:`~tam_widget.explanation_maps.ExplanationMaps`.
    """

    results: dict[str, Any]  # method name -> that method's result
    token_ids: list[int]  # (L,)
    tokens: list[str]  # (L,) display text of every position (vision tokens get a label)
    special: list[bool]  # (L,) special or vision token
    words: list[int]  # (L,) word index of every position, for word-grouped display
    prompt_positions: list[int]  # (P,)
    answer_start: int  # L0
    images: list[np.ndarray]  # uint8 (H, W, 3) per image, or one (T, H, W, 3) video
    views: list[View]  # the grids, in the order of the core's vision layout
    top_ids: np.ndarray  # (N, k) the k most likely tokens at each answer step
    top_probs: np.ndarray  # (N, k) their probabilities
    top_texts: list[list[str]]  # (N, k)
    text: str  # the answer as decoded text
    meta: dict[str, Any] = field(default_factory=dict)
    method: str = "tam"  # the method shown first
    chosen_probs: np.ndarray | None = None  # (N,) the probability of the token the answer has at each step
    source: Any = field(default=None, repr=False, compare=False)  # how it was made (whatif.Source), never saved
    # the page's encoded pictures (tam_widget.display.images), keyed by what they depend on; never saved
    _encoded: dict[Any, list[bytes]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.method not in self.results:
            raise ValueError(f"method {self.method!r} has no result; the results are {sorted(self.results)}.")

    @property
    def result(self) -> Any:
        """The result of :attr:`method` (the method shown first)."""
        return self.results[self.method]

    @property
    def tam(self) -> TAMResult:
        """TAM's result, or a ValueError when TAM did not run."""
        if "tam" not in self.results:
            raise ValueError(f"This explanation has no TAM result (methods: {sorted(self.results)}).")
        result: TAMResult = self.results["tam"]
        return result

    # -- items ------------------------------------------------------------------------------

    @property
    def item_positions(self) -> list[int]:
        """``(T,)``: the sequence position of each explained item."""
        return [*self.prompt_positions, *range(self.answer_start, len(self.token_ids))]

    @property
    def item_texts(self) -> list[str]:
        """``(T,)``: the display text of each explained item."""
        return [self.tokens[p] for p in self.item_positions]

    @property
    def n_prompt(self) -> int:
        """``P``: the number of prompt items."""
        return len(self.prompt_positions)

    @property
    def n_answer(self) -> int:
        """``N``: the number of answer items."""
        return len(self.token_ids) - self.answer_start

    def find(self, word: str) -> list[int]:
        """Items whose token text, stripped, equals ``word`` (case-insensitive)."""
        w = word.strip().lower()
        return [i for i, t in enumerate(self.item_texts) if t.strip().lower() == w]

    # -- what if ----------------------------------------------------------------------------

    def what_if(self, answer: str | list[int], *, model: Any = None, processor: Any = None) -> Explanation:
        """A new explanation of the same image and prompt, with ``answer`` (a text or token ids)
        teacher-forced in one pass and every option as before: "what if it had said *this*?".
        ``model``/``processor``: needed only for an explanation that does not know its model (a
        loaded one); by default the ones it was explained with."""
        from .whatif import source_of

        return source_of(self, model, processor).explain(answer)

    def continue_with(
        self, item: int, token: int | str, *, max_new_tokens: int = 64, model: Any = None, processor: Any = None
    ) -> Explanation:
        """The answer up to answer item ``item``, then ``token`` there (an id, or a text among the
        candidates as :meth:`class_map` reads it), then what the model says next (greedy, at most
        ``max_new_tokens``), explained: "what if it had said *cat* here and gone on?"."""
        from .whatif import continue_prefix, source_of

        max_new_tokens = params.max_new_tokens(max_new_tokens)
        source = source_of(self, model, processor)
        prefix = continue_prefix(self, item, token)
        return source.explain(prefix + source.generate_after(prefix, max_new_tokens))

    def cpu(self) -> Explanation:
        """Move every method's result to the CPU (in place); returns ``self``."""
        self.results = {k: v.to("cpu") for k, v in self.results.items()}
        return self

    def __repr__(self) -> str:
        grids = ", ".join(f"{v.kind} {'x'.join(map(str, v.grid))}" for v in self.views)
        return (
            f"Explanation({self.meta.get('model', '?')}: {self.n_prompt} prompt + {self.n_answer} answer "
            f"tokens, views [{grids}], text={self.text[:60]!r})"
        )

    # -- display ----------------------------------------------------------------------------

    def widget(self, **traits: Any) -> Any:
        """The interactive :class:`~tam_widget.display.widget.TAMWidget` for this explanation."""
        from .display.widget import TAMWidget

        return TAMWidget(self, **traits)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget()._repr_mimebundle_(**kwargs)

    def save_html(self, path: str | os.PathLike[str], **traits: Any) -> Any:
        """One self-contained offline HTML page with the interactive view; returns its path."""
        from .display.html import save_html

        return save_html(self, path, **traits)

    def figure(
        self,
        item_or_words: Any,
        *,
        eci_scale: float = 1.0,
        eci: bool = True,
        filter: bool = True,
        colormap: str = "jet",
        opacity: float = 0.5,
        view: int = 0,
    ) -> Any:
        """A plotly figure of an item's map over its image (see :func:`tam_widget.display.figure.figure`):
        ``exp.figure("dog")``, or small multiples ``exp.figure(["red", "square"])``; needs the ``figures`` extra.
        """
        from .display.figure import figure

        return figure(
            self,
            item_or_words,
            eci_scale=eci_scale,
            eci=eci,
            filter=filter,
            colormap=colormap,
            opacity=opacity,
            view=view,
        )

    # -- persistence ------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write one ``.safetensors`` file (see :mod:`tam_widget.io`); returns its path."""
        from .io import save

        return save(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str | torch.device = "cpu") -> Explanation:
        """Read a file written by :meth:`save` (no pickle: tensors and JSON only)."""
        from .io import read

        return cls(**read(path, device))
