"""Peak memory of a process, for import summaries and benchmarks."""

from __future__ import annotations


def peak_rss_mb(pid: int | str = "self") -> int | None:
    """Peak resident memory (VmHWM) in MB, or None where /proc is missing.

    VmHWM belongs to the process's own address space, so unlike
    ``ru_maxrss`` it does not inherit the parent's size across fork and exec.
    """
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024)
    except (OSError, TypeError):
        return None
    return None
