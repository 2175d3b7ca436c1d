"""Which samples this process scores: all of them, or its share under ``accelerate launch``.

Hugging Face Accelerate starts one process per GPU (or per CPU slot with ``--cpu``), on one
machine or many, and sets up ``torch.distributed``; :class:`Shards` reads the rank and world size
from its ``PartialState``. Samples are dealt round-robin (rank ``r`` takes ``r, r + W, ...``), so
the slow ones spread out; every process writes its own results file and rank 0 merges them.
Without a launcher (``WORLD_SIZE`` unset or 1) Accelerate is not needed.

Accelerate's ``--cpu`` launcher starts one process (several only through ``mpirun``); on a
machine without GPUs, ``accelerate launch --multi_gpu --num_processes N`` (torchrun) starts N CPU
processes, which then talk over gloo.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any

ONE_CPU_PROCESS = (
    "accelerate launch --cpu started one process: Accelerate starts several CPU processes only through mpirun "
    "(--mpirun_hostfile). To shard over N processes on this machine, use `accelerate launch --multi_gpu "
    "--num_processes N -m tam_widget eval ...` (torchrun; on CPU the processes talk over gloo)."
)


@dataclass
class Shards:
    """This process's place among the launched ones."""

    rank: int = 0
    world: int = 1
    state: Any = None  # accelerate's PartialState when launched

    @classmethod
    def current(cls) -> Shards:
        """One process, or the launcher's ranks (an ImportError names the extra when Accelerate is missing)."""
        if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
            if os.environ.get("ACCELERATE_USE_CPU", "").lower() == "true" and "MASTER_PORT" in os.environ:
                warnings.warn(ONE_CPU_PROCESS, stacklevel=2)
            return cls()
        try:
            from accelerate import PartialState  # type: ignore[import-untyped]
        except ImportError as err:
            raise ImportError(
                "This run was launched on several processes: sharding it needs Accelerate: "
                "pip install 'tam-widget[eval]' (or accelerate)."
            ) from err
        import torch

        # on a machine without CUDA, processes started by torchrun (accelerate launch --multi_gpu) talk over gloo
        state = PartialState(
            cpu=os.environ.get("ACCELERATE_USE_CPU", "").lower() == "true" or not torch.cuda.is_available()
        )
        return cls(int(state.process_index), int(state.num_processes), state)

    @property
    def main(self) -> bool:
        """Whether this is rank 0, which merges, summarises and reports."""
        return self.rank == 0

    @property
    def device(self) -> Any:
        """The device this rank's model belongs on (``None`` in one process: leave it where it is)."""
        return None if self.state is None else self.state.device

    def mine(self, n: int) -> range:
        """The sample indices this rank scores out of ``n``."""
        return range(self.rank, n, self.world)

    def wait(self) -> None:
        """Block until every rank gets here (a no-op in one process)."""
        if self.state is not None:
            self.state.wait_for_everyone()
