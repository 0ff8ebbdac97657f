"""Resident memory of a Linux process, from /proc: now, peak, and a reset of the peak."""

from __future__ import annotations

import re


def _status(pid: int | str, field: str) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return int(re.search(rf"^{field}:\s+(\d+) kB", fh.read(), re.M).group(1))


def rss_kib(pid: int | str = "self") -> int:
    return _status(pid, "VmRSS")


def peak_kib(pid: int | str = "self") -> int:
    return _status(pid, "VmHWM")


def reset_peak(pid: int | str = "self") -> int:
    """Start a new peak from the current RSS (Linux ≥ 4.0: `5` to clear_refs); returns it."""
    with open(f"/proc/{pid}/clear_refs", "w") as fh:
        fh.write("5")
    return rss_kib(pid)
