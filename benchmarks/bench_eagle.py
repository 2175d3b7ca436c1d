"""One EAGLE explanation two ways: the reference's scoring procedure vs. the batched scorer.

Both run the same search (:func:`tam_widget.core.eagle_search.eagle_search`, the efficient
variant with the Qwen tutorials' settings: search scope 6, 4 pending samples, a full re-rank every
15 steps) over the same SLICO superpixels of the same image, on the same random Qwen2-VL built
from a config (no download). Only the scorer differs:

- **reference** (written here, spec ``eagle.md`` §1.2): for every masked image, the processor on
  the prompt and that image, ``input_ids`` replaced by the stored full sequence, attention all
  ones, one forward that computes the logits of every position, softmax at the explained
  positions: one image per forward pass;
- **batched**: :func:`tam_widget.runtime.scoring.make_scorer`: ``batch_size`` images per forward,
  masks applied in the model's input space, only the explained positions' logits computed.

Cases:

- ``mid``: hidden 1,024, 8 layers, vocabulary 151,936 (Qwen2-VL's), a 448 x 448 image (256 vision
  tokens), a 16-token answer, d = 64 superpixels;
- ``quick``: hidden 256, 4 layers, the same vocabulary, a 224 x 224 image, an 8-token answer,
  d = 16 (well under two minutes on two CPU cores).

    python benchmarks/bench_eagle.py            # mid
    python benchmarks/bench_eagle.py --quick    # quick
    python benchmarks/bench_eagle.py --device cuda   # mid in bfloat16 on a GPU
    python benchmarks/bench_eagle.py --division 16   # mid with about 16 regions (~11 minutes on 2 busy CPU cores)

Each way runs in a fresh child process: build, warm up (two images scored), reset the peak, run
the search once. Wall time is that one search; memory is the child's peak resident set (the model
included), or ``max_memory_allocated`` on a GPU. The last line is one JSON object with
``speedup`` (reference / batched wall time), ``same_order`` and ``passes`` (images scored, one
forward each in the reference).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_explain import MID  # noqa: E402  (the same mid-size Qwen2-VL as bench_explain)
from benchmarks.procmem import reset_peak, status_kb  # noqa: E402
from tam_widget.core.eagle_search import eagle_search  # noqa: E402
from tam_widget.core.superpixels import opencv_slico_available, regions  # noqa: E402
from tam_widget.families import family_for  # noqa: E402
from tam_widget.runtime.media import as_media, to_pil  # noqa: E402
from tam_widget.runtime.prompt import build_text  # noqa: E402
from tam_widget.runtime.scoring import make_scorer  # noqa: E402
from tam_widget.testing.toy import qwen2_vl_model, qwen2_vl_processor  # noqa: E402

QUICK = {**MID, "hidden": 256, "layers": 4, "heads": 8, "kv_heads": 2, "vision_width": 128, "vision_depth": 2}
QUICK["intermediate"] = 704
CASES: dict[str, dict[str, Any]] = {
    "mid": {"size": MID, "side": 448, "answer": 16, "division": 64},
    "quick": {"size": QUICK, "side": 224, "answer": 8, "division": 16},
}
SEARCH = {"variant": "efficient", "search_scope": 6, "pending_samples": 4, "update_step": 15}
PROMPT = "Describe the picture in detail."


def scene(side: int, seed: int = 0) -> np.ndarray:
    """A smooth random colour field (noise blocks, bilinearly upsampled): superpixels follow its shapes."""
    small = np.random.default_rng(seed).integers(0, 256, (side // 32, side // 32, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((side, side), Image.Resampling.BILINEAR))


def setup(name: str, device: str) -> dict[str, Any]:
    """The model, processor, image, inputs, full sequence and explained positions of a case."""
    case = CASES[name]
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    model = qwen2_vl_model(dtype=dtype, **case["size"]).to(device)
    processor = qwen2_vl_processor()
    image = scene(case["side"])
    arrays, media = as_media(image)
    text, _ = build_text(family_for(model), processor, PROMPT, media)
    inputs = processor(text=[text], images=to_pil(arrays, media), return_tensors="pt")
    answer = np.random.default_rng(1).integers(0, 256, case["answer"]).tolist()  # byte tokens, teacher-forced
    sequence = inputs["input_ids"][0].tolist() + answer
    L0 = int(inputs["input_ids"].shape[1])
    return {
        "model": model,
        "processor": processor,
        "image": image,
        "text": text,
        "inputs": inputs,
        "sequence": sequence,
        "positions": list(range(L0, len(sequence))),
    }


def reference_scorer(s: dict[str, Any]) -> Callable[[np.ndarray], np.ndarray]:
    """The reference's procedure (spec §1.2): one masked image per forward, full logits."""
    model, processor = s["model"], s["processor"]
    device, dtype = model.device, model.dtype
    full = torch.tensor([s["sequence"]], device=device)
    rows = torch.tensor(s["positions"], device=device) - 1
    targets = full[0, rows + 1]

    def score(images: np.ndarray) -> np.ndarray:
        out = []
        for image in images:
            inputs = processor(text=[s["text"]], images=[Image.fromarray(image)], return_tensors="pt").to(device)
            n_answer = full.shape[1] - inputs["input_ids"].shape[1]
            types = inputs["mm_token_type_ids"]
            inputs["mm_token_type_ids"] = torch.cat([types, types.new_zeros(1, n_answer)], dim=1)
            inputs["input_ids"], inputs["attention_mask"] = full, torch.ones_like(full)
            inputs["pixel_values"] = inputs["pixel_values"].to(dtype)
            with torch.no_grad():
                logits = model(**inputs, use_cache=False).logits  # (1, L, V): every position
            probs = torch.softmax(logits[0, rows], dim=-1)
            out.append(probs[torch.arange(len(targets), device=device), targets].float().cpu().numpy())
        return np.stack(out)

    return score


def child(method: str, name: str, device: str, batch_size: int, division: int) -> None:
    """In a fresh process: build, warm up, reset the peak, run the search once; print one JSON line."""
    s = setup(name, device)
    if method == "reference":
        score: Any = reference_scorer(s)
    else:
        score = make_scorer(
            s["model"], s["processor"], s["image"], s["inputs"], s["sequence"], s["positions"], batch_size=batch_size
        )
    labels = regions(s["image"], division)
    score(np.stack([s["image"], np.zeros_like(s["image"])]))  # warm-up
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    else:
        reset_peak()
    calls_before = getattr(score, "forward_calls", 0)
    start = time.perf_counter()
    result = eagle_search(s["image"], labels, score, batch_size=batch_size, **SEARCH)  # type: ignore[arg-type]
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() if device == "cuda" else status_kb("VmHWM") * 1024
    passes = int(result.images_scored)
    forwards = getattr(score, "forward_calls", calls_before + passes) - calls_before
    row = {
        "seconds": seconds,
        "peak_bytes": int(peak),
        "passes": passes,
        "forwards": int(forwards),
        "order": result.order.tolist(),
        "input_space": bool(getattr(score, "input_space", False)),
    }
    print(json.dumps(row))


def run_child(method: str, name: str, device: str, batch_size: int, division: int) -> dict[str, Any]:
    args = [sys.executable, __file__, "--child", method, name, "--device", device]
    args += ["--batch-size", str(batch_size), "--division", str(division)]
    proc = subprocess.run(args, env=dict(os.environ), capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"{method} child failed:\n{proc.stderr[-4000:]}")
    row: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return row


def bench(name: str, device: str, batch_size: int, division: int) -> dict[str, Any]:
    case = CASES[name]
    ref = run_child("reference", name, device, batch_size, division)
    fast = run_child("batched", name, device, batch_size, division)
    speedup = ref["seconds"] / fast["seconds"]
    same = ref["order"] == fast["order"]
    mb = 2**20
    print(
        f"{name:>6}: reference {ref['seconds']:8.1f} s ({ref['passes']} passes, {ref['forwards']} forwards)   "
        f"batched {fast['seconds']:8.1f} s ({fast['passes']} passes, {fast['forwards']} forwards)   "
        f"speedup {speedup:.2f}   (baseline: the reference's procedure = 1.00)"
    )
    print(
        f"{'':>6}  peak memory: reference {ref['peak_bytes'] / mb:8.1f} MB   batched {fast['peak_bytes'] / mb:8.1f} MB"
        f"   ratio {fast['peak_bytes'] / ref['peak_bytes']:.3f}"
    )
    print(
        f"{'':>6}  N = {len(ref['order'])} regions (d = {division}), T = {case['answer']} tokens, "
        f"batch {batch_size}, input-space masking: {fast['input_space']}, same order: {same}"
    )
    return {
        "case": name,
        "speedup": round(speedup, 3),
        "same_order": same,
        "passes": fast["passes"],
        "reference_passes": ref["passes"],
        "batched_forwards": fast["forwards"],
        "reference_s": round(ref["seconds"], 2),
        "batched_s": round(fast["seconds"], 2),
        "reference_peak_mb": round(ref["peak_bytes"] / mb, 1),
        "batched_peak_mb": round(fast["peak_bytes"] / mb, 1),
        "regions": len(ref["order"]),
        "division": division,
        "tokens": case["answer"],
        "batch_size": batch_size,
        "input_space": fast["input_space"],
        "device": device,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the quick case (a smaller model, answer and d)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="cuda: bfloat16 on a GPU")
    parser.add_argument("--batch-size", type=int, default=None, help="images per forward (default 8 CPU, 32 GPU)")
    parser.add_argument("--division", type=int, default=None, help="about how many superpixels (the case's d)")
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    batch_size = args.batch_size or (32 if args.device == "cuda" else 8)
    name = args.child[1] if args.child else ("quick" if args.quick else "mid")
    division = args.division or CASES[name]["division"]
    if args.child:
        child(args.child[0], name, args.device, batch_size, division)
        return
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is available to this torch")
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, device {args.device}, "
        f"superpixels: {'OpenCV SLICO' if opencv_slico_available() else 'scikit-image SLIC (fallback)'}, "
        f"search: {SEARCH}"
    )
    row = bench(name, args.device, batch_size, division)
    print(json.dumps(row))


if __name__ == "__main__":
    main()
