"""The Redis store's Lua scripts as a connection runs them: by their SHA1 (EVALSHA), loaded on
every opening of a connection; sent whole (EVAL) only to a server that has lost them.

Store layer: imports the scripts' source text (`lua.py`) and the protocol's errors.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from mockserver.store import lua
from mockserver.store.resp import ReplyError


class Script(NamedTuple):
    source: str
    sha: str  # what EVALSHA sends in place of the source

    @classmethod
    def of(cls, source: str) -> Script:
        return cls(source, hashlib.sha1(source.encode()).hexdigest())


SCRIPTS = {
    name: Script.of(getattr(lua, name))
    for name in (
        "ADMIT",
        "READ_TASK",
        "INSERT_TASK",
        "SAVE_CLOCK",
        "RESET",
        "TASK_BY_MEDIA",
        "SWAP",
        "PUT_DELIVERY",
        "PAGE",
        "PRUNE",
        "RECORD",
        "FORGET",
        "CLAIM_DUE",
        "RELEASE",
    )
}
SOURCES = [script.source for script in SCRIPTS.values()]


def lost(error: BaseException) -> bool:
    """The server has lost the script (its script cache was flushed since it was loaded)."""
    return isinstance(error, ReplyError) and str(error).startswith("NOSCRIPT")
