"""The suite's loopback callback receiver (tests/callbacks/receiver.py, a process of its own) as
the benchmarks read it: how many callbacks it got, and waiting until it has got enough."""

from __future__ import annotations

import time

from tests.callbacks.receiver import LoopbackReceiver


def received(receiver: LoopbackReceiver) -> int:
    return sum(receiver.ids().values())


def wait_for(receiver: LoopbackReceiver, count: int, seconds: float) -> int:
    """Callbacks the receiver got, once it has `count` or after `seconds`."""
    deadline = time.monotonic() + seconds
    while (got := received(receiver)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return got
