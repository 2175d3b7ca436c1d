"""Capture the last-layer hidden states (and the top candidates) inside the model's own pass.

One forward hook on the decoder's final norm keeps its output, which is exactly what the LM
head multiplies: the whole prompt at the first step of ``generate``, then one position per new
token. A second hook on the LM head keeps only the top-``k`` probabilities of the last position
and the probability of the token that was chosen there, so no full-vocabulary logits are stored:
in ``generate`` the token chosen at step ``i`` is only known when step ``i + 1`` feeds it back, so
the last row (one vocabulary-sized row, never more) waits for it; a third, pre-forward hook on the
model reads that token from the next step's ``input_ids``. :class:`Capture` owns the hooks and
removes them on exit, also when generation raises.

With ``layers`` (the logit lens), one more forward hook per chosen decoder layer keeps that layer's
output in the same pass; :meth:`Capture.layer_hidden` passes it through the model's own final norm,
so each layer's states are read as the LM head reads the last one's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial
from types import TracebackType
from typing import Any

import torch
from torch import nn

NORM_NAMES = ("norm", "final_layernorm", "final_layer_norm", "ln_f", "norm_f")


def final_norm(model: Any) -> nn.Module:
    """The decoder's final norm, found through ``get_decoder()`` (the text model in every family)."""
    decoder = model.get_decoder() if hasattr(model, "get_decoder") else None
    for holder in (decoder, getattr(decoder, "model", None)):
        for name in NORM_NAMES:
            module = getattr(holder, name, None) if holder is not None else None
            if isinstance(module, nn.Module):
                return module
    raise ValueError(
        f"Could not find the final norm of {type(model).__name__}'s decoder (looked for {list(NORM_NAMES)} on "
        "model.get_decoder()). Add the attribute name to tam_widget.runtime.capture.NORM_NAMES."
    )


def decoder_layers(model: Any) -> nn.ModuleList:
    """The decoder's layers (``model.get_decoder().layers``), or a ValueError naming what was looked for."""
    decoder = model.get_decoder() if hasattr(model, "get_decoder") else None
    for holder in (decoder, getattr(decoder, "model", None)):
        layers = getattr(holder, "layers", None) if holder is not None else None
        if isinstance(layers, nn.ModuleList) and len(layers) > 0:
            return layers
    raise ValueError(
        f"Could not find the decoder layers of {type(model).__name__} (looked for `layers` on model.get_decoder()): "
        "maps across layers need them."
    )


def lm_head(model: Any) -> nn.Module:
    """The model's LM head (``get_output_embeddings()``), or a ValueError that says which class to load."""
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if not isinstance(head, nn.Module) or not isinstance(getattr(head, "weight", None), torch.Tensor):
        raise ValueError(
            f"{type(model).__name__} has no LM head (get_output_embeddings() is None). TAM needs the head's "
            "rows: load the model with AutoModelForImageTextToText (or its *ForConditionalGeneration class), "
            "not AutoModel."
        )
    return head


class Capture:
    """Context manager: ``with Capture(model) as cap: model.generate(...)``; then ``cap.hidden()``."""

    def __init__(self, model: Any, top_k: int = 3, softcap: float | None = None, layers: Sequence[int] = ()) -> None:
        self.model = model
        self.norm = final_norm(model)
        self.layers = sorted(set(layers))  # decoder layers whose outputs are kept too (not the last)
        self.layer_chunks: dict[int, list[torch.Tensor]] = {i: [] for i in self.layers}
        self.head = lm_head(model)
        self.top_k = top_k
        self.softcap = softcap
        self.chunks: list[torch.Tensor] = []  # (n_i, c) per call of the norm
        self.top_p: list[torch.Tensor] = []  # (n_i, k) probabilities per call of the head
        self.top_ids: list[torch.Tensor] = []  # (n_i, k)
        self.chosen_p: list[torch.Tensor] = []  # (n_i,) probability of the token chosen at each kept row
        self.head_rows: int | None = None  # how many trailing rows of each head call to keep (None: last)
        self.chosen_ids: torch.Tensor | None = None  # (n,) the tokens the kept rows chose, when known beforehand
        self._pending: tuple[torch.Tensor, torch.Tensor] | None = None  # last (V,) row and its logsumexp
        self._handles: list[torch.utils.hooks.RemovableHandle] = []

    def __enter__(self) -> Capture:
        self._handles = [
            self.norm.register_forward_hook(self._on_norm),
            self.head.register_forward_hook(self._on_head),
        ]
        if isinstance(self.model, nn.Module):
            self._handles.append(self.model.register_forward_pre_hook(self._on_call, with_kwargs=True))
        blocks = decoder_layers(self.model) if self.layers else nn.ModuleList()
        self._handles += [blocks[i].register_forward_hook(partial(self._on_layer, i)) for i in self.layers]
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.remove()

    def remove(self) -> None:
        """Remove both hooks (idempotent; ``__exit__`` calls it, also when the pass raised)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _on_norm(self, module: nn.Module, args: Any, output: Any) -> None:
        out = output[0] if isinstance(output, tuple) else output
        if out.ndim != 3 or out.shape[0] != 1:
            raise ValueError(
                f"Expected hidden states of shape (1, n, c) at the final norm, got {tuple(out.shape)}. tam_widget "
                "explains one sequence at a time: use batch size 1, num_beams=1 and num_return_sequences=1."
            )
        self.chunks.append(out[0].detach())

    def _on_layer(self, layer: int, module: nn.Module, args: Any, output: Any) -> None:
        out = output[0] if isinstance(output, tuple) else output
        self.layer_chunks[layer].append(out[0].detach())

    def _on_head(self, module: nn.Module, args: Any, output: Any) -> None:
        logits = output[0] if isinstance(output, tuple) else output
        rows = logits[0, -1:] if self.head_rows is None else logits[0, -self.head_rows :]
        rows = rows.detach().float()
        if self.softcap:
            rows = self.softcap * torch.tanh(rows / self.softcap)
        lse = rows.logsumexp(dim=-1, keepdim=True)
        top, ids = rows.topk(min(self.top_k, rows.shape[-1]), dim=-1)
        self.top_p.append((top - lse).exp())
        self.top_ids.append(ids)
        if self.chosen_ids is not None:  # teacher-forced: rows past the known ids predict beyond the answer
            n = min(self.chosen_ids.numel(), rows.shape[0])
            chosen = self.chosen_ids[:n].to(rows.device).reshape(n, 1)
            self.chosen_p.append((rows[:n].gather(1, chosen) - lse[:n]).exp()[:, 0])
            return
        if self._pending is not None:  # the previous step's token was never seen: its probability is unknown
            self.chosen_p.append(torch.full((1,), float("nan"), device=rows.device))
        self._pending = (rows[-1].clone(), lse[-1])  # a copy: a view would keep the whole logits alive

    def _on_call(self, module: nn.Module, args: Any, kwargs: dict[str, Any]) -> None:
        """Before each forward of ``generate``: the newest input token is the one the last step chose."""
        ids = kwargs.get("input_ids", args[0] if args else None)
        if self._pending is not None and isinstance(ids, torch.Tensor) and ids.numel() > 0:
            self.settle(ids.reshape(ids.shape[0], -1)[0, -1:])

    def settle(self, token: torch.Tensor | int) -> None:
        """Record the probability the waiting row gave ``token`` (the token chosen there); then drop the row."""
        if self._pending is None:
            return
        row, lse = self._pending
        chosen = torch.as_tensor(token).to(row.device, torch.long).reshape(1)
        self.chosen_p.append((row.gather(0, chosen) - lse).exp())
        self._pending = None

    def hidden(self) -> torch.Tensor:
        """``(n, c)``: every captured position, in sequence order, on the model's device."""
        if not self.chunks:
            raise RuntimeError("The model never called its final norm: nothing was captured.")
        return torch.cat(self.chunks, dim=0)

    def layer_hidden(self) -> dict[int, torch.Tensor]:
        """``{layer: (n, c)}``: each kept layer's output after the final norm, in sequence order."""
        out = {}
        with torch.inference_mode():
            for layer, chunks in self.layer_chunks.items():
                states = torch.cat(chunks, dim=0)
                out[layer] = self.norm(states[None])[0].detach()
                chunks.clear()  # the normed copy replaces the raw one: one (n, c) per layer at a time
        return out

    def top(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(probs, ids)``, each ``(n, k)``: one row per head call row kept."""
        if not self.top_p:
            return torch.zeros(0, self.top_k), torch.zeros(0, self.top_k, dtype=torch.long)
        return torch.cat(self.top_p).cpu(), torch.cat(self.top_ids).cpu()

    def chosen(self) -> torch.Tensor:
        """``(n,)`` float32 on the CPU: the chosen token's probability at each kept row (NaN where never seen).

        In ``generate``, call :meth:`settle` with the last generated token first."""
        if not self.chosen_p:
            return torch.zeros(0)
        return torch.cat(self.chosen_p).float().cpu()


def softcap_of(config: Any) -> float | None:
    """The final-logit soft-capping of the text model (Gemma 2 based checkpoints), if any."""
    for holder in (config, getattr(config, "text_config", None)):
        value = getattr(holder, "final_logit_softcapping", None) if holder is not None else None
        if isinstance(value, (int, float)) and math.isfinite(value) and value > 0:
            return float(value)
    return None
