"""Answers on masked images, many per ``model.generate`` call: the revised answering of spec §6 step 2.

One image size gives one number of image tokens, so the masked copies of an image share the
prompt's ids exactly: a batch needs no padding, only the family's pixel values of each copy
(:class:`~tam_widget.runtime.scoring.PixelFormat`, as the scorer batches them). The answer's
first ``position`` tokens (the text before the wrong word) are forced as part of the prompt, so
the first new token stands where the wrong word stood; the reference explains position 0, where
that prefix is empty and this is its plain regeneration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from ..families import Family
from ..runtime.capture import lm_head
from ..runtime.passes import check_context, eval_mode, model_lock, stop_ids
from ..runtime.scoring import pixel_format


class Answerer:
    """``answerer(images, n)``: ``n`` greedy tokens after the prompt and ``prefix`` for each image.

    ``inputs``: the processor's output for the prompt and the original image (batch 1), on the
    model's device; ``images`` must have that image's shape. Images go ``batch_size`` per
    ``generate`` call; ``calls`` and ``generated`` count them. The model's lock is held and it runs
    in eval mode, as for a pass."""

    def __init__(
        self, model: Any, processor: Any, family: Family, inputs: Mapping[str, Any], prefix: Sequence[int]
    ) -> None:
        self.model, self.processor, self.fmt = model, processor, pixel_format(family)
        ids = inputs["input_ids"]
        self.prefix = [int(t) for t in prefix]
        self.ids = torch.cat([ids, torch.tensor([list(prefix)], dtype=ids.dtype, device=ids.device)], dim=1)
        rest = family.extend_inputs({k: v for k, v in inputs.items() if k not in self.fmt.keys}, len(prefix))
        self.extras = {k: v for k, v in rest.items() if isinstance(v, torch.Tensor) and v.shape[:1] == (1,)}
        self.stop = stop_ids(model, {})
        self.batch_size = 8
        self.calls = self.generated = 0

    def __call__(
        self, images: np.ndarray | Prefixes, max_new_tokens: int, done: Callable[[int], object] | None = None
    ) -> list[list[int]]:
        """Each image's new token ids, cut before the first end-of-sequence token. ``done(n)``: told
        after each call how many images it answered (a progress bar)."""
        check_context(self.model, self.ids.shape[1] + max_new_tokens, "the prompt plus max_new_tokens", "lower it")
        weight: torch.Tensor = lm_head(self.model).weight  # type: ignore[assignment]
        out: list[list[int]] = []
        with model_lock(self.model), eval_mode(self.model), torch.inference_mode():
            for start in range(0, len(images), self.batch_size):
                chunk = images[start : start + self.batch_size]
                pixels, meta = self.fmt.process(self.processor, list(chunk))
                b = len(chunk)
                ids = self.ids.expand(b, -1)
                seq = self.model.generate(
                    input_ids=ids,
                    attention_mask=torch.ones_like(ids),
                    **{k: v.expand(b, *v.shape[1:]) for k, v in self.extras.items()},
                    **self.fmt.forward_inputs(pixels.to(weight.device, weight.dtype), meta),
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    num_beams=1,
                )
                seq = getattr(seq, "sequences", seq)
                out.extend(self._cut(row) for row in seq[:, ids.shape[1] :].tolist())
                self.calls, self.generated = self.calls + 1, self.generated + b
                if done is not None:
                    done(b)
        return out

    def _cut(self, row: list[int]) -> list[int]:
        for i, t in enumerate(row):
            if t in self.stop:
                return row[:i]
        return row


class Prefixes:
    """The images of the prefixes of ``order``: ``prefixes[k − 1]`` shows only the first ``k`` regions,
    black elsewhere (uint8, ``image``'s shape). A slice makes just those copies, so a batch at a time
    exists, never all ``N``."""

    def __init__(self, image: np.ndarray, regions: np.ndarray, order: np.ndarray) -> None:
        rank = np.empty(len(order), dtype=np.int64)
        rank[np.asarray(order)] = np.arange(len(order))
        self.image, self.n = image, len(order)
        self.appears = rank[regions]  # per pixel: the index in the order of its region

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, ks: slice) -> np.ndarray:
        """``(B, H, W, 3)`` uint8: the images of prefixes ``k = s + 1`` for ``s`` in the slice."""
        sizes = np.arange(1, self.n + 1)[ks]
        shown = self.appears[None] < sizes[:, None, None]
        return np.asarray(self.image[None] * shown[..., None], dtype=np.uint8)
