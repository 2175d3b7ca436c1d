"""The batched scorer itself: masked images in, the explained tokens' probabilities out (:mod:`.scoring`).

A :class:`BatchScorer` holds what does not change between masks (the teacher-forced sequence on the
model's device, the pixel values of the image and of an all-black image) and scores ``batch_size``
masked images a forward; :func:`.scoring.make_scorer` checks its inputs and builds it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .passes import eval_mode, model_lock
from .pixel_formats import PixelFormat, element_index


class BatchScorer:
    """``scorer(images)``: ``(B, H, W, 3)`` uint8 masked images -> ``(B, T)`` float32 probabilities.

    Requests above ``batch_size`` images are split into several forwards. ``images_scored`` and
    ``forward_calls`` count the work, ``processed`` the images that went through the processor
    (the others were masked in the model's input space); ``input_space`` says whether that path
    is on for this image. Scoring holds the model's lock and runs it in eval mode, as a pass does.
    """

    def __init__(self, model: Any, processor: Any, image: np.ndarray, fmt: PixelFormat, seq: dict[str, Any]) -> None:
        self.model, self.processor, self.image, self.fmt = model, processor, image.copy(), fmt
        self.batch_size = 1
        self.images_scored = self.forward_calls = self.processed = 0
        self.input_space = False
        self._seq = seq  # ids (1, L), rows (T,), targets (T,), extras, dtype: on the model's device
        self._device: torch.device = seq["ids"].device
        pixels, self._meta = fmt.process(processor, [image])
        self._one = pixels.shape[1:]
        self._image_px = pixels[0].to(self._device).reshape(-1)
        self._black_px = fmt.process(processor, [np.zeros_like(image)])[0][0].to(self._device).reshape(-1)
        self._flat = self.image.reshape(-1)
        self._index: torch.Tensor | None = None  # pixel-value element -> flat (H, W, 3) index, when exact

    @property
    def n_tokens(self) -> int:
        """``T``: how many tokens each image is scored on."""
        return int(self._seq["targets"].numel())

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """The explained tokens' probabilities for each masked image (one forward per ``batch_size`` images)."""
        x = self._check(images)
        out = np.zeros((len(x), self.n_tokens), dtype=np.float32)
        with model_lock(self.model), eval_mode(self.model), torch.inference_mode():
            for start in range(0, len(x), self.batch_size):
                chunk = x[start : start + self.batch_size]
                out[start : start + len(chunk)] = self._forward(self.pixel_values(chunk)).numpy()
                self.images_scored += len(chunk)
                self.forward_calls += 1
        return out

    def pixel_values(self, images: np.ndarray) -> torch.Tensor:
        """``(B, ...)`` float32 pixel values of the images, on the model's device (input space where exact)."""
        x = self._check(images)
        if self._index is None:
            return self._processed(x)
        flat = x.reshape(len(x), -1)
        kept = flat == self._flat
        fits = (kept | (flat == 0)).all(axis=1)  # every channel the image's or black
        chosen = torch.from_numpy(kept).to(self._device)[:, self._index]
        out = torch.where(chosen, self._image_px, self._black_px).reshape(len(x), *self._one)
        if not fits.all():
            out[torch.from_numpy(~fits).to(self._device)] = self._processed(x[~fits])
        return out

    def find_input_space(self) -> bool:
        """Mask in the model's input space from now on if the processor is per pixel channel for this
        image: :func:`element_index` finds the layout, and a masked probe must match bit for bit."""
        index = element_index(self.fmt, self.processor, self.image.shape)
        self._index = None
        if index is not None and index.numel() == self._image_px.numel():
            self._index = index.to(self._device)
            keep = np.random.default_rng(0).random((2, *self.image.shape)) < 0.5
            probe = np.where(keep, self.image, 0).astype(np.uint8)
            probe[1] = 0
            exact = torch.equal(self.pixel_values(probe), self._processed(probe))
            self.processed -= len(probe)
            self._index = self._index if exact else None
        self.input_space = self._index is not None
        return self.input_space

    def _processed(self, x: np.ndarray) -> torch.Tensor:
        pixels, meta = self.fmt.process(self.processor, list(x))
        if pixels.shape[1:] != self._one or not torch.equal(torch.as_tensor(meta), torch.as_tensor(self._meta)):
            raise ValueError("A scored image gave other pixel-value shapes than the image: keep the image's size.")
        self.processed += len(x)
        return pixels.to(self._device)

    def _forward(self, pixels: torch.Tensor) -> torch.Tensor:
        b, s = len(pixels), self._seq
        ids = s["ids"].expand(b, -1)
        logits = self.model(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            logits_to_keep=s["rows"],
            use_cache=False,
            **{k: v.expand(b, *v.shape[1:]) for k, v in s["extras"].items()},
            **self.fmt.forward_inputs(pixels.to(s["dtype"]), self._meta),
        ).logits
        if tuple(logits.shape[:2]) != (b, self.n_tokens):
            raise RuntimeError(f"The model returned logits of shape {tuple(logits.shape)}: it ignored logits_to_keep.")
        probs = torch.softmax(logits, dim=-1)  # in the model's dtype, as the reference
        return probs.gather(-1, s["targets"].expand(b, -1)[..., None])[..., 0].float().cpu()

    def _check(self, images: Any) -> np.ndarray:
        if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.shape[1:] != self.image.shape:
            got = f"shape {images.shape} {images.dtype}" if isinstance(images, np.ndarray) else type(images).__name__
            raise ValueError(
                f"images must be a (B, {', '.join(map(str, self.image.shape))}) uint8 array of masked copies of the "
                f"image, got {got}. Stack single images with np.stack(...)."
            )
        return images
