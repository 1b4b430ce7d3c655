"""Where the fake keeps its state: the `Store` protocol and its implementations.

Store layer: imports the engine's records, never Starlette or a provider.
"""
