"""TAM (Li et al., ICCV 2025): an LM-head row's activation on the vision tokens, cleaned by ECI
and a rank Gaussian filter, for every explained item at once (:func:`tam_widget.core.compute_tam`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..core.layout import VisionLayout
from ..core.result import TAMResult
from ..core.tam import compute_tam
from .base import JSON, Captured, Method

# the tensors of a TAMResult saved to a file, in this order
STATE = ("A", "E", "omega", "scale", "R", "n_visible", "classes", "token_ids")


class TAM(Method):
    """White-box, one pass: needs the hidden states and the LM head, never scores an image."""

    name = "tam"
    title = "TAM"

    def run(self, captured: Captured, *, reference_quirks: bool = True, kernel: int = 3, **options: Any) -> TAMResult:
        """:func:`~tam_widget.core.compute_tam` on the run's hidden states (``reference_quirks``, ``kernel``)."""
        if options:
            raise TypeError(f"TAM takes reference_quirks and kernel, not {sorted(options)}.")
        with torch.no_grad():
            return compute_tam(
                captured.hidden,
                captured.lm_head,
                captured.token_ids,
                captured.layout,
                list(captured.prompt_positions),
                captured.answer_start,
                lm_head_bias=captured.lm_head_bias,
                reference_quirks=reference_quirks,
                kernel=kernel,
            )

    def to_state(self, result: TAMResult) -> tuple[dict[str, torch.Tensor], JSON]:
        tensors = {k: getattr(result, k) for k in STATE}
        return tensors, {"n_prompt": result.n_prompt, "n_answer": result.n_answer, "kernel": result.kernel}

    def from_state(self, tensors: dict[str, torch.Tensor], header: JSON, layout: VisionLayout) -> TAMResult:
        return TAMResult(
            **{k: tensors[k] for k in STATE},
            layout=layout,
            n_prompt=int(header["n_prompt"]),
            n_answer=int(header["n_answer"]),
            kernel=int(header["kernel"]),
        )

    def wire_arrays(self, result: TAMResult) -> tuple[dict[str, np.ndarray], JSON]:
        """``A`` (T, n_v), ``omega`` and ``R`` (T, T), ``scale`` (T,) as float32, ``n_visible`` as int32.

        ``omega`` instead of ``E``: the browser forms ``E_v = omega_v @ A`` for the item it shows,
        and ``T x T`` is much smaller than ``T x n_v``.
        """
        r = result.to("cpu")
        arrays = {
            "A": r.A.float().numpy(),
            "omega": r.omega.float().numpy(),
            "scale": r.scale.float().numpy(),
            "R": r.R.float().numpy(),
            "n_visible": r.n_visible.numpy().astype(np.int32),
        }
        return arrays, {"kernel": r.kernel}
