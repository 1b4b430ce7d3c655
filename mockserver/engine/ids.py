"""Seeded identifiers: the same seed gives the same sequence of ids, per purpose.

Engine layer. Provider id formats are built from these pieces in the provider adapters.
"""

from __future__ import annotations

import functools
import hashlib
import random
import string
import uuid

LOWER_ALNUM = string.ascii_lowercase + string.digits


class IdFactory:
    """Independent seeded streams per purpose, so request ids never shift task ids."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._streams: dict[str, random.Random] = {}

    def _stream(self, purpose: str) -> random.Random:
        stream = self._streams.get(purpose)
        if stream is None:
            stream = self._streams[purpose] = random.Random(f"{self.seed}:{purpose}")
        return stream

    def uuid4(self, purpose: str) -> str:
        return str(uuid.UUID(int=self._stream(purpose).getrandbits(128), version=4))

    def token(self, purpose: str, length: int, alphabet: str = LOWER_ALNUM) -> str:
        stream = self._stream(purpose)
        return "".join(stream.choice(alphabet) for _ in range(length))

    def hex(self, purpose: str, length: int = 32) -> str:
        return f"{self._stream(purpose).getrandbits(length * 4):0{length}x}"


@functools.lru_cache(maxsize=4096)  # a handful of keys, looked up on every request
def fingerprint(key: str | None) -> str | None:
    """How keys appear in journals and views: never the key itself."""
    if not key:
        return None
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:12]
