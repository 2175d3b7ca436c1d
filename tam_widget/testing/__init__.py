"""Test aids, shipped so that tests, benchmarks and the teaching model share them; not public API.

``toy`` builds small Qwen2-VL models and processors offline (the one Qwen2-VL config builder);
``synthetic`` makes structured TAM inputs of any size with no model; ``golden`` reads the
reference implementation's golden cases; ``reference`` is TAM computed the way the reference
code computes it (the benchmarks' baseline and the tests' oracle); ``orientation`` is the one
harness that checks a family's vision grid is oriented (edit a region, see which cells change);
``video`` is a torchvision-free stand-in for the Qwen2-VL video processor, so ``explain``'s own
video path runs in the tests.
"""
