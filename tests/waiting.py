"""Watching processes the sandbox tests start: waiting for the kernel to reap them, finding them by command line."""

from __future__ import annotations

import os
import time
from collections.abc import Callable


def eventually(condition: Callable[[], bool], wait_s: float = 3.0) -> bool:
    """``condition`` holds within ``wait_s`` (polled every 20 ms)."""
    end = time.monotonic() + wait_s
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


def sleepers(marker: str) -> list[int]:
    """Pids of live ``sleep MARKER`` processes (what the attack and confinement tests leave behind)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if f.read().split(b"\0")[:2] == [b"sleep", marker.encode()]:
                        out.append(int(entry))
            except OSError:
                continue
    return out
