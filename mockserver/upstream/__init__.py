"""The fake tied to the real providers: replaying what they did (`replay.py`).

Upstream layer: beside the providers; knows them only through the registry's records.
"""
