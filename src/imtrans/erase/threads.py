"""How many threads the erase stage uses for its independent crops (lines, mask clusters)."""

from __future__ import annotations

import os

# More threads than this gain nothing on crops this small.
_MAX_THREADS = 4


def workers(jobs: int) -> int:
    """Threads for ``jobs`` independent crops: the CPUs this process may use, at most 4.

    OpenCV calls and NumPy's large array loops release the GIL, so crops run in parallel.

    Args:
        jobs: Number of independent pieces of work.

    Returns:
        At least 1, at most ``jobs``.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(_MAX_THREADS, cpus, jobs))
