"""What a child measures besides its wall time: peak memory, the machine's load, its children's CPU time."""
from __future__ import annotations

import os
import resource


def status_mb(field_name: str) -> float | None:
    """A memory field of /proc/self/status (VmRSS, VmHWM) in MB, None where there is none."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def peak_mb() -> float:
    """This process's own high-water mark: the whole process, interpreter and imports included."""
    hwm = status_mb("VmHWM")
    if hwm is not None:
        return hwm
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0   # Linux: KiB


def children_cpu_s() -> float:
    """CPU seconds (user + system) of every descendant waited for so far: a command's worker processes too,
    since each parent waits for its own."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def children_peak_mb() -> float:
    """The largest high-water mark of any descendant waited for so far (one process's, not a sum)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def load1() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None
