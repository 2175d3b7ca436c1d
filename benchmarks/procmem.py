"""Process memory from /proc (Linux): the resident set and its peak, which can be reset."""

from __future__ import annotations

from pathlib import Path


def status_kb(field: str) -> int:
    """A ``/proc/self/status`` figure in KiB (``VmRSS``, ``VmHWM``, ...)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> None:
    """Reset ``VmHWM`` (the peak resident set) to the current resident set."""
    Path("/proc/self/clear_refs").write_text("5")
