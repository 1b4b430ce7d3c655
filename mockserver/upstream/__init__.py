"""The fake meeting the real providers: a validating proxy in front of a provider's real service
(`proxy.py`), its create budget, the recording of what passed (`har.py`, secrets taken out by
`redact.py`), the callback relay (`relay.py`), the drift report and lifecycle profile read from
those exchanges (`drift.py`, `lifecycle.py`, `profile.py`), and the recordings replay reads
(`recordings.py`; replaying them is the engine's: `mockserver/engine/replay.py`).

Upstream layer: above the providers (read through the registry's records, never a provider's
own modules), below the fake and the control plane.
"""
