"""Waiting for something the kernel does asynchronously (a SIGKILLed process being reaped)."""

from __future__ import annotations

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
