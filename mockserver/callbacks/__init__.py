"""Outbound callbacks: the SSRF guard (`guard.py`), the sender and its schedule (`delivery.py`),
the attempts under way on one event loop (`flights.py`, paced by `pacing.py`) and the lean
HTTP/1.1 client they use on the real network (`wire.py`).

Callbacks layer: beside the engine (it registers timer handlers and task-end listeners) and
below the web layer; httpx only for an injected transport (`delivery.py`).
"""
