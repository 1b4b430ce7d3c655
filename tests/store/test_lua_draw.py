"""The Redis store draws a rule's chances in Lua; the memory store in Python. Both must give the
same numbers for the same seed, rule and draw, or a seeded chaos run would differ by store."""

from __future__ import annotations

import pytest
import redis

from mockserver.engine.faults import chance
from mockserver.store import lua

DRAWS = [
    (seed, rule, draw) for seed in (0, 1, 2**31 - 1) for rule in ("fault-1", "fault-42") for draw in range(40)
]


def test_the_lua_draw_gives_the_python_draw_for_every_seed_rule_and_draw(redis_base: str) -> None:
    client = redis.Redis.from_url(f"{redis_base}/0")
    script = (
        lua.CHANCE
        + "\nlocal found = {}\nfor i = 1, #ARGV, 3 do\n"
        + ("  found[#found + 1] = tostring(chance(ARGV[i], ARGV[i + 1], ARGV[i + 2]))\nend\nreturn found\n")
    )
    try:
        arguments = [str(value) for triple in DRAWS for value in triple]
        from_lua = [float(value) for value in client.eval(script, 0, *arguments)]
    finally:
        client.close()
    from_python = [chance(seed, rule, draw) for seed, rule, draw in DRAWS]
    # Lua prints 14 significant digits; draws are whole multiples of 2**-32 apart
    assert from_lua == pytest.approx(from_python, rel=0, abs=1e-12)
    assert len(set(from_python)) == len(DRAWS)  # the draws differ: the comparison means something
