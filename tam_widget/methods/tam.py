"""TAM (Li et al., ICCV 2025): an LM-head row's activation on the vision tokens, cleaned by ECI
and a rank Gaussian filter, for every explained item at once (:func:`tam_widget.core.compute_tam`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch

from .. import params
from ..core.candidates import CandidateSet
from ..core.layout import VisionLayout
from ..core.result import TAMResult
from ..core.tam import compute_tam
from .base import JSON, Captured, Method
from .tam_wire import A_LEVELS, dequantise_rows, layer_arrays, nonfinite_rows, quantise_rows, tam_arrays

# the tensors of a TAMResult saved to a file, in this order
__all__ = ["A_LEVELS", "CANDIDATES", "STATE", "TAM", "dequantise_rows", "layer_arrays", "quantise_rows"]

STATE = ("A", "E", "omega", "scale", "R", "n_visible", "classes", "token_ids")
# its candidate set's (older files have none): class ids (U,), raw maps (U, n_v), text activations (U, T)
CANDIDATES = {"candidate_classes": "classes", "candidate_A": "A", "candidate_R": "R"}


class TAM(Method):
    """White-box, one pass: needs the hidden states and the LM head, never scores an image."""

    name = "tam"
    title = "TAM"
    streamable = frozenset({"A", "layer_A", "candidate_A", "candidate_R"})  # see Method (base.py)
    explain_options = ("reference_quirks", "kernel")  # the explain() keywords it takes

    def run(self, captured: Captured, *, reference_quirks: bool = True, kernel: int = 3, **options: Any) -> TAMResult:
        """:func:`~tam_widget.core.compute_tam` on the run's hidden states (``reference_quirks``, ``kernel``)."""
        if options:
            raise TypeError(f"TAM takes reference_quirks and kernel, not {sorted(options)}.")

        def at(hidden: torch.Tensor, candidates: torch.Tensor | None) -> TAMResult:
            with torch.no_grad():
                return compute_tam(
                    hidden,
                    captured.lm_head,
                    captured.token_ids,
                    captured.layout,
                    list(captured.prompt_positions),
                    captured.answer_start,
                    lm_head_bias=captured.lm_head_bias,
                    reference_quirks=reference_quirks,
                    kernel=kernel,
                    candidates=candidates,
                )

        result = at(captured.hidden, captured.candidates)
        if not captured.layer_hidden:
            return result
        # the logit lens: the same core on each kept layer's normed states (the candidates stay the last layer's)
        layers = {i: at(h, None) for i, h in sorted(captured.layer_hidden.items())}
        return replace(result, layers=layers, n_layers=captured.n_layers)

    def to_state(self, result: TAMResult) -> tuple[dict[str, torch.Tensor], JSON]:
        tensors = {k: getattr(result, k) for k in STATE}
        if result.candidates is not None:
            tensors |= {k: getattr(result.candidates, f) for k, f in CANDIDATES.items()}
        for i, layer in result.layers.items():  # earlier layers: their own state under layer<i>.
            tensors |= {f"layer{i}.{k}": getattr(layer, k) for k in STATE}
        header: JSON = {"n_prompt": result.n_prompt, "n_answer": result.n_answer, "kernel": result.kernel}
        if result.layers:
            header |= {"layers": sorted(result.layers), "n_layers": result.n_layers}
        return tensors, header

    def check_state(self, tensors: dict[str, torch.Tensor], header: JSON, layout: VisionLayout) -> None:
        """Refuse a saved state that :meth:`from_state` cannot turn into a correct result (``ValueError``).

        The header holds ``n_prompt``, ``n_answer`` (``T`` = their sum, at least 1) and a ``kernel``
        :func:`tam_widget.params.kernel` accepts; the tensors are all of :data:`STATE`: ``A``, ``E``
        ``(T, n_v)`` with ``n_v`` the layout's vision tokens, ``omega``, ``R`` ``(T, T)``, ``scale``
        ``(T,)``, all of one float dtype and finite (``scale`` may be NaN: an item with no context);
        ``n_visible``, ``classes``, ``token_ids`` ``(T,)`` int64, ``n_visible`` in ``[0, T]``.
        """
        counts: dict[str, int] = {}
        for key in ("n_prompt", "n_answer"):
            v = header.get(key)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"field 'methods.tam.{key}' must be a non-negative integer, got {v!r}.")
            counts[key] = v
        n_items = counts["n_prompt"] + counts["n_answer"]
        if n_items < 1:
            raise ValueError("fields 'methods.tam.n_prompt' and 'n_answer' are both 0: TAM explains no item.")
        try:
            params.kernel(header.get("kernel"))
        except (TypeError, ValueError) as e:
            raise ValueError(f"field 'methods.tam.kernel': {e}") from e
        missing = [f"tam.{k}" for k in STATE if k not in tensors]
        if missing:
            raise ValueError(f"tensor(s) {missing} are missing.")
        n_v = layout.n_tokens
        shapes: dict[str, tuple[int, ...]] = {
            "A": (n_items, n_v),
            "E": (n_items, n_v),
            "omega": (n_items, n_items),
            "R": (n_items, n_items),
        }
        shapes |= {k: (n_items,) for k in ("scale", "n_visible", "classes", "token_ids")}
        for key, shape in shapes.items():
            if tuple(tensors[key].shape) != shape:
                raise ValueError(
                    f"tensor 'tam.{key}' has shape {tuple(tensors[key].shape)}; expected {shape} "
                    f"(T = {counts['n_prompt']} + {counts['n_answer']} items, n_v = {n_v} vision tokens)."
                )
        dtype = tensors["A"].dtype
        for key in ("A", "E", "omega", "R", "scale"):
            if not tensors[key].is_floating_point() or tensors[key].dtype != dtype:
                raise ValueError(
                    f"tensor 'tam.{key}' is {tensors[key].dtype}; A, E, omega, R and scale share one float dtype."
                )
        for key in ("n_visible", "classes", "token_ids"):
            if tensors[key].dtype != torch.int64:
                raise ValueError(f"tensor 'tam.{key}' is {tensors[key].dtype}; it must be int64.")
        for key in ("A", "E", "omega", "R"):
            bad = int((~torch.isfinite(tensors[key])).sum())
            if bad:
                raise ValueError(f"tensor 'tam.{key}' holds {bad} NaN or infinite value(s).")
        visible = tensors["n_visible"]
        if int(visible.min()) < 0 or int(visible.max()) > n_items:
            raise ValueError(
                f"tensor 'tam.n_visible' must lie in [0, {n_items}] (items shown), got {visible.tolist()[:8]}."
            )
        if int(tensors["classes"].min()) < 0 or int(tensors["token_ids"].min()) < 0:
            raise ValueError("tensors 'tam.classes' and 'tam.token_ids' hold token ids, which cannot be negative.")
        _check_candidates(tensors, n_items, n_v)
        self._check_layers(tensors, header, layout)

    def _check_layers(self, tensors: dict[str, torch.Tensor], header: JSON, layout: VisionLayout) -> None:
        """Earlier layers' states (``layers``, ``n_layers`` in the header): each checked as a result of its own."""
        layers, n_layers = header.get("layers", []), header.get("n_layers")
        if not layers:
            return
        last = n_layers - 1 if isinstance(n_layers, int) and not isinstance(n_layers, bool) and n_layers > 0 else 0
        if not isinstance(layers, list) or not all(_index(i, last) for i in layers) or len(set(layers)) != len(layers):
            raise ValueError(
                f"fields 'methods.tam.layers' {layers!r} must be distinct layer indices below the last of "
                f"'methods.tam.n_layers' {n_layers!r}."
            )
        core = {k: header[k] for k in ("n_prompt", "n_answer", "kernel")}
        for i in layers:
            try:
                self.check_state(_layer_state(tensors, i), core, layout)
            except ValueError as e:
                raise ValueError(f"layer {i}: {e}".replace("'tam.", f"'tam.layer{i}.")) from e

    def from_state(self, tensors: dict[str, torch.Tensor], header: JSON, layout: VisionLayout) -> TAMResult:
        """The result saved by :meth:`to_state`, after :meth:`check_state` (``ValueError`` when it refuses)."""
        self.check_state(tensors, header, layout)
        held = all(k in tensors for k in CANDIDATES)
        candidates = CandidateSet(**{f: tensors[k] for k, f in CANDIDATES.items()}) if held else None
        core = {k: header[k] for k in ("n_prompt", "n_answer", "kernel")}
        layers = {i: self.from_state(_layer_state(tensors, i), core, layout) for i in header.get("layers", [])}
        return TAMResult(
            **{k: tensors[k] for k in STATE},
            candidates=candidates,
            layout=layout,
            n_prompt=int(header["n_prompt"]),
            n_answer=int(header["n_answer"]),
            kernel=int(header["kernel"]),
            layers=layers,
            n_layers=int(header["n_layers"]) if layers else None,
        )

    def wire_arrays(self, result: TAMResult, exp: Any = None) -> tuple[dict[str, np.ndarray], JSON]:
        """Every layer compact (:mod:`.tam_wire`: ``A`` as uint16 per row, ``omega``'s strict lower
        triangle, ``R``'s shown part), ``classes`` and ``token_ids``, the candidates' maps (the
        browser's candidate maps, :meth:`~tam_widget.core.TAMResult.class_maps`); in the JSON, the
        ``kernel`` and, with earlier layers (the logit lens), ``layers`` (every kept layer, the last
        included: ``exp.layers``) and ``n_layers``.

        ``omega`` instead of ``E``: the browser forms ``E_v = omega_v @ A`` for the item it shows,
        and ``T x T`` is much smaller than ``T x n_v``.
        """
        r = result.to("cpu")
        arrays = tam_arrays(r)
        if not r.layers:
            return arrays, {"kernel": r.kernel}
        kept = [*sorted(r.layers), int(r.n_layers or 0) - 1]
        return arrays, {"kernel": r.kernel, "layers": kept, "n_layers": r.n_layers}

    def nonfinite_rows(self, result: TAMResult) -> dict[str, list[int]]:
        """The items whose data hold NaN or an infinity, per array (:func:`.tam_wire.nonfinite_rows`)."""
        return nonfinite_rows(result)


def _check_candidates(tensors: dict[str, torch.Tensor], n_items: int, n_v: int) -> None:
    """The candidate set is absent (older files) or whole: sorted distinct ids, float32-like finite maps."""
    present = [k for k in CANDIDATES if k in tensors]
    if not present:
        return
    if len(present) != len(CANDIDATES):
        missing = sorted(set(CANDIDATES) - set(present))
        raise ValueError(f"tensor(s) {['tam.' + k for k in missing]} are missing (the candidate set is partial).")
    ids, A, R = (tensors[k] for k in CANDIDATES)
    u = ids.numel()
    if ids.dtype != torch.int64 or ids.ndim != 1:
        raise ValueError(f"tensor 'tam.candidate_classes' must be (U,) int64, got {tuple(ids.shape)} {ids.dtype}.")
    if u and (int(ids.min()) < 0 or bool((ids[1:] <= ids[:-1]).any())):
        raise ValueError(
            "tensor 'tam.candidate_classes' must hold distinct non-negative token ids in increasing order."
        )
    for key, arr, shape in (("candidate_A", A, (u, n_v)), ("candidate_R", R, (u, n_items))):
        if tuple(arr.shape) != shape or arr.dtype != tensors["A"].dtype:
            raise ValueError(
                f"tensor 'tam.{key}' is {tuple(arr.shape)} {arr.dtype}; expected {shape} {tensors['A'].dtype} "
                f"(U = {u} candidate classes)."
            )
        if not bool(torch.isfinite(arr).all()):
            raise ValueError(f"tensor 'tam.{key}' holds NaN or infinite values.")


def _layer_state(tensors: dict[str, torch.Tensor], layer: int) -> dict[str, torch.Tensor]:
    """Layer ``layer``'s tensors (saved under ``layer<i>.``) under their plain names."""
    prefix = f"layer{layer}."
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def _index(value: Any, below: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < below
