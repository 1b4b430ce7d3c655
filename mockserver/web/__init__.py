"""The HTTP side: routes compiled from the specs, one request pipeline, one place where errors
become responses, and response conformance checking.

Web layer: imports the engine and the specs; knows no provider by name (each API is handed to
it as an `Api` with its own error dialect).
"""
