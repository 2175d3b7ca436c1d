"""Train the embedded teaching model (a tiny Qwen2-VL) on synthetic scenes, on the CPU.

    python -m tam_widget.teaching.train                       # the shipped checkpoint (~10 min, 2 cores)
    python -m tam_widget.teaching.train --align-weight 0 --out build/no-align   # caption loss only

Recipe: every step draws a fresh batch of scenes (training seeds start at 1,000,000; the
benchmark's held-out scenes use seeds below that). Two losses:

- the caption loss: cross-entropy of the answer tokens (the caption and the end token) given the
  image and the prompt, exactly as ``explain`` lays the text out;
- the alignment loss (``--align-weight``): the LM head applied to each vision token's *final*
  hidden state, cross-entropy against the words of the object under that cell (half its colour
  word, half its texture word) or ``background`` for an empty cell; cells an object only partly
  covers are left out. Without it those hidden states get no gradient at all, and whether TAM's
  maps point at the right object is an accident of the seed.

Every ``--eval-every`` steps the model is scored on held-out scenes: caption exact match (the
teacher-forced argmax reproduces the whole caption and the end token, which is what greedy
decoding then generates) and the pointing game of the raw maps of colour and texture words. The
checkpoint kept is the best by caption exact match, then pointing. Weights are written with
safetensors in float16 beside ``config.json``, ``tokenizer.json`` and ``training.json`` (the
recipe and its scores).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as nnf

from ..families import FAMILIES
from ..families.base import Media
from ..runtime.prompt import build_text
from . import model as teaching
from .scenes import PROMPT, SIZE, Scene, cell_labels, make_scene

TRAIN_SEED0 = 1_000_000
GRID = SIZE // teaching.PATCH


class Batcher:
    """Scenes -> model inputs, caption labels and alignment targets."""

    def __init__(self, processor: Any) -> None:
        self.processor = processor
        self.vocab = teaching.vocabulary()
        self.prefix = build_text(FAMILIES["qwen2_vl"], processor, PROMPT, Media(sizes=((SIZE, SIZE),)))[0]
        self.eos = processor.tokenizer.eos_token
        self.n_prefix = len(processor(text=[self.prefix], images=[make_scene(0).image])["input_ids"][0])

    def __call__(self, scenes: list[Scene]) -> dict[str, torch.Tensor]:
        texts = [self.prefix + s.caption + self.eos for s in scenes]
        enc = self.processor(text=texts, images=[s.image for s in scenes], return_tensors="pt", padding=True)
        ids = enc["input_ids"]
        n_prefix = self.n_prefix
        labels = torch.full_like(ids, -100)
        labels[:, n_prefix:] = ids[:, n_prefix:]
        labels[enc["attention_mask"] == 0] = -100
        # alignment targets: (B, GRID*GRID, V) distributions, and which cells count
        target = torch.zeros(len(scenes), GRID * GRID, len(self.vocab))
        used = torch.zeros(len(scenes), GRID * GRID, dtype=torch.bool)
        for b, s in enumerate(scenes):
            lab = cell_labels(s, GRID).reshape(-1)
            for cell, k in enumerate(lab.tolist()):
                if k == -1:
                    target[b, cell, self.vocab[teaching.BACKGROUND]] = 1.0
                elif k >= 0:
                    colour, texture = s.objects[k].words
                    target[b, cell, self.vocab[colour]] = 0.5
                    target[b, cell, self.vocab[texture]] = 0.5
                used[b, cell] = k != -2
        return {**enc, "labels": labels, "align_target": target, "align_used": used}


def losses(model: Any, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(caption loss, alignment loss, logits)`` from one forward of the language model."""
    out = model.model(
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        pixel_values=batch["pixel_values"],
        image_grid_thw=batch["image_grid_thw"],
        mm_token_type_ids=batch["mm_token_type_ids"],
    )
    logits = model.lm_head(out.last_hidden_state)  # (B, L, V): the vocabulary is ~40 words
    labels = batch["labels"]
    caption = nnf.cross_entropy(logits[:, :-1].flatten(0, 1), labels[:, 1:].flatten(), ignore_index=-100)
    vision = batch["input_ids"] == model.config.image_token_id  # (B, L), GRID*GRID per row, row-major
    v_logits = logits[vision].view(len(labels), GRID * GRID, -1)
    per_cell = -(batch["align_target"] * nnf.log_softmax(v_logits, dim=-1)).sum(-1)
    used = batch["align_used"]
    align = (per_cell * used).sum() / used.sum().clamp(min=1)
    return caption, align, logits


@torch.no_grad()
def evaluate(model: Any, batcher: Batcher, scenes: list[Scene]) -> dict[str, float]:
    """Caption exact match (teacher-forced argmax = greedy output) and raw-map pointing of named words."""
    model.eval()
    batch = batcher(scenes)
    _, _, logits = losses(model, batch)
    labels = batch["labels"]
    pred = logits[:, :-1].argmax(-1)
    want = labels[:, 1:]
    ok = ((pred == want) | (want == -100)).all(dim=1)
    # pointing of the raw map (activation of the word's LM-head row on the vision states)
    vision = batch["input_ids"] == model.config.image_token_id
    v_logits = logits[vision].view(len(scenes), GRID * GRID, -1)
    hits: dict[str, list[float]] = {"colour": [], "texture": []}
    for b, s in enumerate(scenes):
        lab = cell_labels(s, GRID, full=0.01).reshape(-1)  # any coverage counts as "on the object"
        for k, o in enumerate(s.objects):
            for kind, word in zip(("colour", "texture"), o.words, strict=True):
                if s.mask_of(word) != k:
                    continue  # a texture shared with an earlier object: ambiguous
                best = int(v_logits[b, :, batcher.vocab[word]].argmax())
                hits[kind].append(float(lab[best] == k))
    model.train()
    return {
        "caption_exact": float(ok.float().mean()),
        "pointing_colour": float(np.mean(hits["colour"])),
        "pointing_texture": float(np.mean(hits["texture"])) if hits["texture"] else 0.0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--align-weight", type=float, default=1.0, help="0 trains on the caption loss alone")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--eval-scenes", type=int, default=96)
    ap.add_argument("--out", default=str(teaching.CHECKPOINT))
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    from transformers import Qwen2VLForConditionalGeneration

    model = Qwen2VLForConditionalGeneration(teaching.config()).train()
    batcher = Batcher(teaching.processor())
    held_out = [make_scene(900_000 + i) for i in range(args.eval_scenes)]  # not the benchmark's, not training's
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = max(1, args.steps // 20)

    def lr_at(step: int) -> float:
        if step < warmup:
            return float((step + 1) / warmup)
        return float(0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, args.steps - warmup))))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    best: tuple[float, float] = (-1.0, -1.0)
    history: list[dict[str, float]] = []
    start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    for step in range(1, args.steps + 1):
        seeds = TRAIN_SEED0 + rng.integers(0, 2**31 - TRAIN_SEED0, args.batch)
        batch = batcher([make_scene(int(s)) for s in seeds])
        caption, align, _ = losses(model, batch)
        loss = caption + args.align_weight * align
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 50 == 0:
            print(
                f"step {step:5d}  caption {caption.item():.3f}  align {align.item():.3f}  "
                f"{time.perf_counter() - start:6.0f} s",
                flush=True,
            )
        if step % args.eval_every == 0 or step == args.steps:
            scores = evaluate(model, batcher, held_out)
            history.append({"step": step, **scores})
            print(f"  eval {json.dumps(scores)}", flush=True)
            key = (scores["caption_exact"], scores["pointing_colour"] + scores["pointing_texture"])
            if key > best:
                best = key
                info = {
                    "step": step,
                    "scores": scores,
                    "history": history,
                    "args": vars(args),
                    "seconds": round(time.perf_counter() - start, 1),
                    "torch": torch.__version__,
                }
                teaching.save(model, args.out, info)
                print(f"  saved to {args.out}", flush=True)
    print(f"done in {time.perf_counter() - start:.0f} s; best (caption exact, pointing sum) = {best}")


if __name__ == "__main__":
    main()
