"""Reference Python client for the AI/ML API and EvoLink video APIs (sync and async)."""
