"""The plain result of :func:`tam_widget.explain`: maps, tokens, images and metadata in one object.

Usable without Jupyter; saved to and loaded from one ``.safetensors`` file (tensors plus a JSON
header, no pickle).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from .core.layout import VisionLayout
from .core.result import TAMMaps, TAMResult
from .families.base import View

FORMAT = "tam-widget/explanation/1"


@dataclass
class Explanation:
    """Every token's map and what a view needs to show it.

    Positions index the model's sequence (``L`` of them: input, then answer). Items are the
    explained tokens: the prompt's words (``prompt_positions``), then every answer token.
    """

    result: TAMResult  # the core result, on the model's device
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

    # -- items ------------------------------------------------------------------------------

    @property
    def item_positions(self) -> list[int]:
        """``(T,)``: the sequence position of each explained item."""
        return [*self.prompt_positions, *range(self.answer_start, len(self.token_ids))]

    @property
    def item_texts(self) -> list[str]:
        return [self.tokens[p] for p in self.item_positions]

    @property
    def n_prompt(self) -> int:
        return len(self.prompt_positions)

    @property
    def n_answer(self) -> int:
        return len(self.token_ids) - self.answer_start

    def find(self, word: str) -> list[int]:
        """Items whose token text, stripped, equals ``word`` (case-insensitive)."""
        w = word.strip().lower()
        return [i for i, t in enumerate(self.item_texts) if t.strip().lower() == w]

    # -- maps -------------------------------------------------------------------------------

    def maps(self, eci_scale: float = 1.0, *, eci: bool = True, filter: bool = True) -> TAMMaps:
        """All items' normalised maps (see :meth:`TAMResult.maps`), computed on the result's device."""
        return self.result.maps(eci_scale, eci=eci, filter=filter)

    def view_maps(
        self, item: int, eci_scale: float = 1.0, *, eci: bool = True, filter: bool = True
    ) -> list[np.ndarray]:
        """One float map per view for ``item``: ``(h, w)``, or ``(t, h, w)`` for a video view."""
        image = self.maps(eci_scale, eci=eci, filter=filter).image[item].float().cpu().numpy()
        out, at = [], 0
        for v in self.views:
            n = len(v.positions)
            out.append(image[at : at + n].reshape(v.grid))
            at += n
        return out

    def cells(self) -> np.ndarray:
        """``(n_v, 5)`` int: for every vision token in layout order, ``[view, image, frame, row, col]``."""
        rows = []
        for k, v in enumerate(self.views):
            t, h, w = (1, *v.grid) if len(v.grid) == 2 else v.grid
            f, r, c = np.unravel_index(np.arange(t * h * w), (t, h, w))
            rows.append(np.stack([np.full_like(f, k), np.full_like(f, v.image), f, r, c], axis=1))
        return np.concatenate(rows).astype(np.int64)

    def cpu(self) -> Explanation:
        self.result = self.result.to("cpu")
        return self

    def __repr__(self) -> str:
        grids = ", ".join(f"{v.kind} {'x'.join(map(str, v.grid))}" for v in self.views)
        return (
            f"Explanation({self.meta.get('model', '?')}: {self.n_prompt} prompt + {self.n_answer} answer "
            f"tokens, views [{grids}], text={self.text[:60]!r})"
        )

    # -- display ----------------------------------------------------------------------------

    def widget(self, **traits: Any) -> Any:
        """The interactive :class:`~tam_widget.widget.TAMWidget` for this explanation."""
        from .widget import TAMWidget

        return TAMWidget(self, **traits)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget()._repr_mimebundle_(**kwargs)

    def save_html(self, path: str | os.PathLike[str], **traits: Any) -> Any:
        """One self-contained offline HTML page with the interactive view; returns its path."""
        from .export import save_html

        return save_html(self, path, **traits)

    # -- persistence ------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write one ``.safetensors`` file: the arrays as tensors, everything else as JSON metadata."""
        r = self.result
        tensors: dict[str, torch.Tensor] = {
            "A": r.A,
            "E": r.E,
            "omega": r.omega,
            "scale": r.scale,
            "R": r.R,
            "n_visible": r.n_visible,
            "classes": r.classes,
            "item_token_ids": r.token_ids,
            "vision_positions": r.layout.positions,
            "token_ids": torch.tensor(self.token_ids, dtype=torch.int64),
            "top_ids": torch.as_tensor(self.top_ids, dtype=torch.int64),
            "top_probs": torch.as_tensor(self.top_probs, dtype=torch.float32),
        }
        for i, img in enumerate(self.images):
            tensors[f"image_{i}"] = torch.from_numpy(np.ascontiguousarray(img))
        header = {
            "format": FORMAT,
            "tokens": self.tokens,
            "special": self.special,
            "words": self.words,
            "prompt_positions": self.prompt_positions,
            "answer_start": self.answer_start,
            "n_images": len(self.images),
            "grids": r.layout.to_json(),
            "n_prompt": r.n_prompt,
            "n_answer": r.n_answer,
            "kernel": r.kernel,
            "text": self.text,
            "top_texts": self.top_texts,
            "views": [{"image": v.image, "kind": v.kind, "grid": list(v.grid), "box": list(v.box)} for v in self.views],
            "meta": self.meta,
        }
        save_file(
            {k: v.detach().cpu().contiguous() for k, v in tensors.items()},
            os.fspath(path),
            metadata={"tam_widget": json.dumps(header)},
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str | torch.device = "cpu") -> Explanation:
        """Read a file written by :meth:`save` (no pickle: tensors and JSON only)."""
        with safe_open(os.fspath(path), framework="pt", device="cpu") as f:
            meta = f.metadata() or {}
            if "tam_widget" not in meta:
                raise ValueError(f"{os.fspath(path)!r} is not a tam-widget explanation (no 'tam_widget' header).")
            h = json.loads(meta["tam_widget"])
            if h.get("format") != FORMAT:
                raise ValueError(f"{os.fspath(path)!r} has format {h.get('format')!r}; this version reads {FORMAT!r}.")
            t = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a mapping)
        layout = VisionLayout.from_grids(t["vision_positions"], h["grids"])
        result = TAMResult(
            A=t["A"],
            E=t["E"],
            omega=t["omega"],
            scale=t["scale"],
            R=t["R"],
            n_visible=t["n_visible"],
            classes=t["classes"],
            token_ids=t["item_token_ids"],
            layout=layout,
            n_prompt=h["n_prompt"],
            n_answer=h["n_answer"],
            kernel=h["kernel"],
        ).to(device)
        views, at = [], 0
        positions = t["vision_positions"].tolist()
        for v in h["views"]:
            n = int(np.prod(v["grid"]))
            views.append(
                View(
                    image=v["image"],
                    kind=v["kind"],
                    grid=tuple(v["grid"]),
                    positions=tuple(positions[at : at + n]),
                    box=tuple(v["box"]),
                )
            )
            at += n
        return cls(
            result=result,
            token_ids=t["token_ids"].tolist(),
            tokens=h["tokens"],
            special=h["special"],
            words=h["words"],
            prompt_positions=h["prompt_positions"],
            answer_start=h["answer_start"],
            images=[t[f"image_{i}"].numpy() for i in range(h["n_images"])],
            views=views,
            top_ids=t["top_ids"].numpy(),
            top_probs=t["top_probs"].numpy(),
            top_texts=h["top_texts"],
            text=h["text"],
            meta=h["meta"],
        )
