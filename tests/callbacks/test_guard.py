"""The SSRF guard's address rules, one verdict per row of its tables, the same on every Python
(the standard library's `is_global` differs between 3.11, 3.12 and 3.13 on several of these):
CI runs this file on the oldest and the newest Python the package supports."""

from __future__ import annotations

import ipaddress

import pytest

from mockserver.callbacks.guard import embedded_ipv4, ip_literal, is_public

PUBLIC = [
    "93.184.216.34",
    "8.8.8.8",
    "192.31.196.1",  # AS112: globally reachable
    "192.52.193.1",  # AMT: globally reachable
    "2606:2800:220:1:248:1893:25c8:1946",
    "2620:4f:8000::1",  # AS112 for IPv6
    "::ffff:93.184.216.34",  # mapped: the IPv4 inside decides
    "::5db8:d822",  # IPv4-compatible
    "64:ff9b::5db8:d822",  # NAT64, well-known prefix
    "2002:5db8:d822::1",  # 6to4 (3.13's ipaddress calls every 6to4 address private)
]
NOT_PUBLIC = [
    "0.0.0.0",
    "0.1.2.3",
    "10.0.0.1",
    "100.64.0.1",
    "127.0.0.1",
    "169.254.169.254",
    "172.16.0.1",
    "172.31.255.254",
    "192.0.0.8",
    "192.0.0.9",  # PCP anycast: Python 3.13 calls it global; no callback receiver
    "192.0.0.100",  # Python 3.11.7 calls it global
    "192.0.2.10",
    "192.88.99.1",  # 6to4 relay anycast, deprecated
    "192.168.1.1",
    "198.18.0.1",
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.1",  # Python calls it global
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::127.0.0.1",
    "64:ff9b::127.0.0.1",
    "64:ff9b::a00:1",
    "64:ff9b:1::5db8:d822",  # NAT64 for local use, whatever it carries (3.11 calls it global)
    "2002:7f00:1::1",  # 6to4 carrying 127.0.0.1
    "2002:a00:1::1",  # 6to4 carrying 10.0.0.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo
    "2001:2::1",  # benchmarking
    "2001:3::1",  # AMT: inside the IETF assignments refused whole (3.13 calls it global)
    "2001:20::1",  # ORCHIDv2 (3.13 calls it global)
    "2001:db8::1",
    "3fff::1",  # documentation since 2024 (Python calls it global)
    "5f00::1",  # SRv6 (Python calls it global)
    "100::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "fec0::1",  # site-local, deprecated (Python calls it global)
    "ff02::1",
    "4000::1",  # outside global unicast (Python calls it global)
]


@pytest.mark.parametrize("address", PUBLIC)
def test_a_public_address_is_public(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_a_special_purpose_address_is_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("address", "inner"),
    [
        ("::ffff:10.0.0.1", "10.0.0.1"),
        ("::7f00:1", "127.0.0.1"),
        ("64:ff9b::5db8:d822", "93.184.216.34"),
        ("2002:7f00:1:ffff::1", "127.0.0.1"),
        ("::1", None),
        ("64:ff9b:1::a00:1", None),  # local-use NAT64: not read, refused whole
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", None),  # Teredo: not read, refused whole
        ("2606:2800:220:1::1", None),
    ],
)
def test_the_ipv4_an_ipv6_address_carries_is_read_from_the_listed_forms_only(
    address: str, inner: str | None
) -> None:
    found = embedded_ipv4(ipaddress.IPv6Address(address))
    assert (None if found is None else str(found)) == inner


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "017700000001", "127.1", "0x7f.1", "127.1."])
def test_inet_atons_forms_of_loopback_are_literals_and_not_public(host: str) -> None:
    literal = ip_literal(host)
    assert str(literal) == "127.0.0.1" and not is_public(literal)  # type: ignore[arg-type]
