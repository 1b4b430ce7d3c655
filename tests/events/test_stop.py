"""Stopping the `mockserver` command with event streams open: the server tells each stream to
end as it starts stopping, so a stop (SIGTERM: Ctrl-C, `docker stop`, a deploy) takes no longer
with a dashboard open than without, and nothing is cut off or logged as a failure."""

from __future__ import annotations

import time

from tests.e2e.nodes import Node
from tests.events.sse import WAIT, stream

GRACE = 30  # the shutdown timeout: a stop that waited for the streams would wait this long


def test_a_stop_ends_open_event_streams_at_once_rather_than_waiting_out_the_grace() -> None:
    node = Node([], {"MOCKSERVER_SHUTDOWN_TIMEOUT": str(GRACE)})
    try:
        with stream(node.base) as first, stream(node.base) as second:
            started = time.monotonic()
            node.process.terminate()
            assert first.ended.wait(WAIT) and second.ended.wait(WAIT)
            node.process.wait(WAIT)
            took = time.monotonic() - started
    finally:
        node.stop()
    assert took < 5, f"the stop took {took:.1f} s"
    assert "Traceback" not in node.printed and "timeout graceful shutdown" not in node.printed
