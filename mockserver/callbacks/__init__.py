"""Outbound callbacks: the SSRF guard (`guard.py`) and the sender (`delivery.py`).

Callbacks layer: beside the engine (it registers timer handlers and task-end listeners) and
below the web layer; the only httpx user in the fake.
"""
