"""What makes a pass safe to repeat and to share (:mod:`.passes`): a per-model lock, so two passes
on one model take turns (the capture hooks sit on the model's own modules, so concurrent passes
would capture each other's forwards), and eval mode for the pass, every module's own mode restored
afterwards (also when the pass raises).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

_LOCKS: weakref.WeakKeyDictionary[Any, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def model_lock(model: Any) -> threading.RLock:
    """The lock that serialises passes on ``model`` (re-entrant: a thread may nest passes on it)."""
    with _LOCKS_GUARD:
        lock = _LOCKS.get(model)
        if lock is None:
            lock = _LOCKS[model] = threading.RLock()
        return lock


@contextmanager
def eval_mode(model: Any) -> Iterator[bool]:
    """Run the block with ``model`` in eval mode; yield whether it was training. Every module's own
    mode comes back afterwards (also when the block raises), so a partly frozen model stays so."""
    modules = list(model.modules()) if isinstance(model, torch.nn.Module) else []
    modes = [m.training for m in modules]
    was_training = bool(getattr(model, "training", False))
    if modules:
        model.eval()
    try:
        yield was_training
    finally:
        for m, mode in zip(modules, modes, strict=True):
            m.training = mode
