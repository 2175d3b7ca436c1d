"""``explain`` vs. plain ``generate``: wall time and peak memory with the same settings.

Both take the same image and prompt through the same processor and generate the same number of
tokens greedily (``min_new_tokens = max_new_tokens``); ``explain`` also captures the hidden
states in that pass, computes every token's map and decodes the tokens. Random Qwen2-VL models
built from configs (no download):

- ``tiny``: hidden 64, 2 layers, a 112x84 image, 16 new tokens;
- ``mid``: hidden 1,024, 8 layers, vocabulary 151,936 (Qwen2-VL's), a 448x448 image
  (256 vision tokens), 64 new tokens, on the CPU;
- ``gpu``: hidden 2,048, 16 layers, bfloat16, a 896x896 image, 128 new tokens (only where CUDA is);
- ``mid-layers``: the mid case explained with ``layers="all"`` (maps at all 8 layers, one pass).

    python benchmarks/bench_explain.py           # tiny + mid (+ gpu where CUDA is available)
    python benchmarks/bench_explain.py --quick   # tiny + a shorter mid (< 1 minute)
    python benchmarks/bench_explain.py --device cuda   # the gpu case only (fails without CUDA)

Time is the median over alternating repeats after a warm-up. Memory is each method's peak
resident set (the model included), measured in a fresh child process per method after a warm-up
run, with the peak reset just before the measured run; on a GPU, ``max_memory_allocated``.
The last line is one JSON object; ``overhead_ratio`` and ``memory_overhead_ratio`` are the mid
case's explain / generate.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.procmem import reset_peak, status_kb  # noqa: E402
from tam_widget import explain  # noqa: E402
from tam_widget.families import family_for  # noqa: E402
from tam_widget.runtime.media import as_media, to_pil  # noqa: E402
from tam_widget.runtime.prompt import build_text  # noqa: E402
from tam_widget.testing.toy import noise_image, qwen2_vl_model, qwen2_vl_processor  # noqa: E402

# Qwen2-VL-2B's vocabulary and a mid-size language model and vision tower
MID = {
    "hidden": 1024,
    "layers": 8,
    "heads": 16,
    "kv_heads": 4,
    "vocab": 151936,
    "vision_width": 256,
    "vision_depth": 4,
    "intermediate": 2816,
}
CASES: dict[str, dict[str, Any]] = {
    "tiny": {"size": {}, "image": (84, 112), "new": 16},
    "mid": {"size": MID, "image": (448, 448), "new": 64},
    "mid-quick": {"size": MID, "image": (448, 448), "new": 24},
    "mid-layers": {"size": MID, "image": (448, 448), "new": 64, "layers": "all"},
    "mid-quick-layers": {"size": MID, "image": (448, 448), "new": 24, "layers": "all"},
    "gpu": {
        "size": {**MID, "hidden": 2048, "layers": 16, "vision_width": 512, "vision_depth": 8, "intermediate": 5632},
        "image": (896, 896),
        "new": 128,
        "device": "cuda",
        "dtype": torch.bfloat16,
    },
}
PROMPT = "Describe the picture in detail."


def setup(name: str) -> tuple[Callable[[], object], Callable[[], object]]:
    """``(plain, explained)``: two zero-argument runs of the same generation."""
    case = CASES[name]
    model = qwen2_vl_model(dtype=case.get("dtype", torch.float32), **case["size"]).to(case.get("device", "cpu"))
    processor = qwen2_vl_processor()
    img = noise_image(*case["image"])
    new = case["new"]

    def plain() -> object:
        arrays, media = as_media(img)
        text, _ = build_text(family_for(model), processor, PROMPT, media)
        inputs = processor(text=[text], images=to_pil(arrays, media), return_tensors="pt").to(model.device)
        with torch.inference_mode():
            return model.generate(**inputs, max_new_tokens=new, min_new_tokens=new, do_sample=False)

    def explained() -> object:
        return explain(model, processor, img, PROMPT, max_new_tokens=new, min_new_tokens=new, layers=case.get("layers"))

    return plain, explained


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timings(name: str, repeat: int) -> tuple[float, float]:
    plain, explained = setup(name)
    plain(), explained()  # warm-up
    t_plain: list[float] = []
    t_expl: list[float] = []
    for _ in range(repeat):
        for fn, out in ((plain, t_plain), (explained, t_expl)):
            _sync()
            start = time.perf_counter()
            fn()
            _sync()
            out.append(time.perf_counter() - start)
    return statistics.median(t_plain), statistics.median(t_expl)


def child(method: str, name: str) -> None:
    """In a fresh process: warm up, reset the peak, run once, print the peak in bytes."""
    plain, explained = setup(name)
    fn = plain if method == "generate" else explained
    fn()
    if CASES[name].get("device") == "cuda":
        torch.cuda.reset_peak_memory_stats()
        fn()
        print(json.dumps({"peak_bytes": torch.cuda.max_memory_allocated()}))
        return
    reset_peak()
    fn()
    print(json.dumps({"peak_bytes": status_kb("VmHWM") * 1024}))


def peak_bytes(method: str, name: str) -> int:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", method, name],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=True,
    )
    return int(json.loads(proc.stdout.strip().splitlines()[-1])["peak_bytes"])


def bench(name: str, repeat: int) -> dict[str, Any]:
    t_gen, t_exp = timings(name, repeat)
    m_gen, m_exp = peak_bytes("generate", name), peak_bytes("explain", name)
    row = {
        "case": name,
        "generate_s": round(t_gen, 4),
        "explain_s": round(t_exp, 4),
        "overhead_ratio": round(t_exp / t_gen, 4),
        "generate_peak_mb": round(m_gen / 2**20, 1),
        "explain_peak_mb": round(m_exp / 2**20, 1),
        "memory_overhead_ratio": round(m_exp / m_gen, 4),
    }
    print(
        f"{name:>9}: generate {t_gen * 1e3:9.1f} ms   explain {t_exp * 1e3:9.1f} ms   ratio {t_exp / t_gen:.3f}   "
        f"(baseline: plain generate = 1.000; target <= 1.10 CPU, <= 1.02 GPU)"
    )
    print(
        f"{'':>9}  peak memory: generate {m_gen / 2**20:8.1f} MB   explain {m_exp / 2**20:8.1f} MB   "
        f"ratio {m_exp / m_gen:.3f}   (target <= 1.05)"
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny + a shorter mid case, fewer repeats")
    parser.add_argument(
        "--device", choices=["cpu", "cuda"], help="cpu: the CPU cases only; cuda: the gpu case only (needs CUDA)"
    )
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, CUDA: {torch.cuda.is_available()}")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is available to this torch")
    names = ["tiny", "mid-quick", "mid-quick-layers"] if args.quick else ["tiny", "mid", "mid-layers"]
    if args.device == "cuda":
        names = ["gpu"]
    elif args.device is None and torch.cuda.is_available() and not args.quick:
        names.append("gpu")
    rows = {n: bench(n, repeat=2 if args.quick else 5) for n in names}
    mid = rows.get("mid-quick" if args.quick else "mid")
    summary: dict[str, Any] = {}
    if mid is not None:
        summary = {"overhead_ratio": mid["overhead_ratio"], "memory_overhead_ratio": mid["memory_overhead_ratio"]}
    summary["cases"] = list(rows.values())
    if "gpu" in rows:
        summary["gpu_overhead_ratio"] = rows["gpu"]["overhead_ratio"]
    layered = rows.get("mid-quick-layers" if args.quick else "mid-layers")
    if layered is not None:
        summary["layers_all_overhead_ratio"] = layered["overhead_ratio"]
        summary["layers_all_memory_ratio"] = layered["memory_overhead_ratio"]
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
