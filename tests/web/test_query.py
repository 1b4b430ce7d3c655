"""The query string read on the hot path gives what `urllib.parse.parse_qsl` gives."""

from __future__ import annotations

from urllib.parse import parse_qsl

from hypothesis import example, given, settings
from hypothesis import strategies as st

from mockserver.web.reading import query_values

QUERY_BYTES = st.binary(max_size=60) | st.lists(
    st.sampled_from([b"a", b"b", b"=", b"&", b"%", b"%41", b"+", b"%zz", b";", b"\xc3\xa9", b""]), max_size=12
).map(b"".join)


@settings(max_examples=1000)
@given(QUERY_BYTES)
@example(b"generation_id=abc")
@example(b"a&b=&=c&&a=2")
@example(b"id=a%2Fb+c")
@example(b"id=%C3%A9%e9%zz%")
def test_the_query_reads_as_parse_qsl_reads_it(raw: bytes) -> None:
    assert query_values(raw) == dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
