"""Store URLs read as redis-py reads them (`address.py`): the same forms and the options that
apply to one connection mean the same; redis-py's pool options are taken and left aside; any
other option, or a value that cannot be used, is refused naming what is wrong."""

from __future__ import annotations

import ssl

import pytest

from mockserver.store.address import CONNECT_TIMEOUT, REPLY_TIMEOUT, Address, parse


def test_a_tcp_url_names_host_port_database_and_credentials() -> None:
    found = parse("redis://me:p%40ss@127.0.0.1:6390/2?socket_timeout=0.5&socket_connect_timeout=1")
    assert found == Address("127.0.0.1", 6390, "", 2, "me", "p@ss", None, 1.0, 0.5)


def test_what_a_url_does_not_say_is_redis_pys_default() -> None:
    assert parse("redis://") == Address(
        "localhost", 6379, "", 0, None, None, None, CONNECT_TIMEOUT, REPLY_TIMEOUT
    )
    assert parse("redis://[::1]/").host == "::1"


def test_the_database_option_wins_over_the_path_and_the_first_of_a_repeated_option_counts() -> None:
    assert parse("redis://h/1?db=4").db == 4
    assert parse("redis://h/0?socket_timeout=1&socket_timeout=9").reply_timeout == 1.0
    assert parse("redis://:secret@h/0?password=other").password == "other"


def test_a_unix_url_names_the_socket_and_takes_its_database_as_an_option() -> None:
    found = parse("unix://:secret@/run/redis/redis.sock?db=3")
    assert (found.path, found.db, found.password, found.host) == ("/run/redis/redis.sock", 3, "secret", "")


def test_a_tls_url_verifies_the_server_unless_it_says_otherwise() -> None:
    verified = parse("rediss://h/0").tls
    assert verified is not None and verified.verify_mode == ssl.CERT_REQUIRED and verified.check_hostname
    loose = parse("rediss://h/0?ssl_cert_reqs=none").tls
    assert loose is not None and loose.verify_mode == ssl.CERT_NONE and not loose.check_hostname
    unchecked = parse("rediss://h/0?ssl_check_hostname=false").tls
    assert (
        unchecked is not None and unchecked.verify_mode == ssl.CERT_REQUIRED and not unchecked.check_hostname
    )
    assert parse("redis://h/0").tls is None


def test_redis_pys_pool_options_are_taken_and_left_aside() -> None:
    pooled = "redis://h/0?max_connections=64&health_check_interval=30&retry_on_timeout=true&client_name=x"
    assert parse(pooled) == parse("redis://h/0")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://h/0", "starts with redis://, rediss:// or unix://"),
        ("redis://h/0?decode_responses=true&protocol=3", "does not read: decode_responses, protocol"),
        ("redis://h/zero", "database must be a number: 'zero'"),
        ("redis://h/0?socket_timeout=soon", "socket_timeout is not a number of seconds"),
        ("redis://h/0?socket_connect_timeout=0", "socket_connect_timeout must be positive"),
        ("rediss://h/0?ssl_cert_reqs=maybe", "ssl_cert_reqs must be none, optional or required"),
        ("rediss://h/0?ssl_check_hostname=perhaps", "ssl_check_hostname must be true or false"),
        ("rediss://h/0?ssl_ca_certs=/nowhere/ca.pem", "TLS files cannot be used"),
    ],
)
def test_a_url_the_store_cannot_use_is_refused_naming_why(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace("(", r"\(")):
        parse(url)
