"""TAM computed the way the reference code computes it, as the benchmark's baseline.

Full-vocabulary logits at every position, built per generation round as the reference's
pipeline does (``lm_head`` on the prefill's hidden states, then on each step's), then a Python
loop over the explained tokens: each token's scores sliced round by round from those logits,
ECI with a scalar minimiser, joint normalisation and a rank Gaussian filter that visits one
pixel at a time. It reproduces the same maps as the core (the benchmark checks that) and is
deliberately *not* optimised: it is the procedure to beat.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import minimize_scalar

from ..core import VisionLayout


def rgf_per_pixel(img: np.ndarray, k: int = 3) -> np.ndarray:
    """Rank Gaussian filter, one pixel at a time (numpy ``reflect`` padding)."""
    h, w = img.shape
    padded = np.pad(img, k // 2, mode="reflect")
    out = np.zeros_like(img, dtype=np.float64)
    centre = (k * k) // 2
    for i in range(h):
        for j in range(w):
            x = np.sort(padded[i : i + k, j : j + k].ravel())
            mu, sd = x.mean(), x.std()
            if mu <= 0:
                continue
            cv = sd / mu
            if cv == 0:
                out[i, j] = np.median(x)
                continue
            g = np.exp(-((np.arange(k * k) - centre) ** 2) / (2 * cv**2))
            out[i, j] = (g * x).sum() / g.sum()
    return out


def round_logits(hidden: torch.Tensor, lm_head: torch.Tensor, answer_start: int) -> list[torch.Tensor]:
    """The reference's ``logit_list``: ``(L0, V)`` for the prefill, then ``(1, V)`` per generation step."""
    steps = [hidden[:answer_start]] + [hidden[p : p + 1] for p in range(answer_start, hidden.shape[0] - 1)]
    return [step @ lm_head.T for step in steps]


def reference_maps(
    hidden: torch.Tensor,
    lm_head: torch.Tensor,
    token_ids: torch.Tensor,
    vision: VisionLayout,
    prompt_positions: torch.Tensor,
    answer_start: int,
) -> np.ndarray:
    """``(T, n_v)`` uint8 maps of every item, in the core's item order."""
    frames = [(f.height, f.width) for f in vision.frames]
    image_positions = vision.positions
    logit_list = round_logits(hidden, lm_head, answer_start)
    ids = token_ids.tolist()
    q = prompt_positions.tolist()
    n_prompt, length = len(q), len(ids)
    shown = q + list(range(answer_start, length))
    rel_pos = q + list(range(answer_start - 1, length - 1))
    raw_maps: list[np.ndarray] = []
    out = []
    for v in range(len(shown)):
        rounds = 1 if v <= n_prompt else v - n_prompt + 1
        if v == 0:
            cls = int(torch.argmax(logit_list[0][q[0]]))
        elif v == n_prompt:
            cls = ids[answer_start - 1]
        else:
            cls = ids[shown[v]]
        column = torch.cat([logit_list[r][:, cls] for r in range(rounds)]).clamp(min=0).double().numpy()
        img = column[image_positions.numpy()]
        n_vis = max(v, n_prompt) + 1
        txt = column[rel_pos[:n_vis]]
        ctx = [k for k in range(v) if ids[shown[k]] != ids[shown[v]]]
        img_hat = img
        if ctx:
            w = txt[ctx] / (txt[ctx].sum() + 1e-8)
            interf = sum(wk * raw_maps[k] for wk, k in zip(w, ctx, strict=True))
            s = 0.0  # the minimiser's answer is arbitrary on a flat objective (E = 0)
            if np.any(interf):
                s = minimize_scalar(lambda s, a=img, e=interf: float(((a - s * e) ** 2).sum())).x
            img_hat = np.maximum(0, img - s * interf)
        raw_maps.append(img)
        z = np.concatenate([img_hat, txt[:-1]])
        span = z.max() - z.min()
        z = (z - z.min()) / span if span > 0 else np.zeros_like(z)
        filtered, offset = [], 0
        for h, w_ in frames:
            filtered.append(rgf_per_pixel(z[offset : offset + h * w_].reshape(h, w_)).ravel())
            offset += h * w_
        out.append(np.floor(255 * np.concatenate(filtered)).astype(np.uint8))
    return np.stack(out)
