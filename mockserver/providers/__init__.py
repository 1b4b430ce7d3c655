"""Per-provider wire adapters: routes, handlers and the provider's words (`wire.py`).

Provider layer: imports the engine and the routing pipeline; never imports the app.
"""
