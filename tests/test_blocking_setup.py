"""What SocketClient accepts before it touches the network: its address, checked at
construction, and the error of a call made before ``connect()``, which says how to
connect. No socket is opened here."""

from __future__ import annotations

from typing import Any

import pytest

from txarakoon.blocking import SocketClient
from txarakoon.errors import NotConnectedError


@pytest.mark.parametrize(
    ("given", "address"),
    [
        (("127.0.0.1", 4000), ("127.0.0.1", 4000)),
        (["arakoon.example", 4000], ("arakoon.example", 4000)),
        ("127.0.0.1:14000", ("127.0.0.1", 14000)),
        ("arakoon.example:4000", ("arakoon.example", 4000)),
        ("[::1]:4000", ("::1", 4000)),
        ("[fe80::1%eth0]:65535", ("fe80::1%eth0", 65535)),
    ],
)
def test_address_is_a_pair_or_a_host_port_string(given: Any, address: tuple[str, int]) -> None:
    assert SocketClient(given, "arakoon").address == address


def test_repr_of_a_host_port_string_names_host_and_port() -> None:
    assert repr(SocketClient("127.0.0.1:14000", "arakoon")) == (
        "<SocketClient 127.0.0.1:14000 not connected>"
    )


@pytest.mark.parametrize(
    "given",
    [
        "127.0.0.1",
        "127.0.0.1:",
        ":4000",
        "127.0.0.1:port",
        "127.0.0.1:-1",
        "127.0.0.1:٤٠٠٠",  # Arabic-Indic digits: isdigit() alone would take them
        "::1:4000",
        "[::1]",
        "127.0.0.1:0",
        "127.0.0.1:65536",
        ("127.0.0.1", 0),
        ("127.0.0.1", 70000),
        ("", 4000),
    ],
)
def test_a_malformed_address_is_a_value_error_naming_it(given: Any) -> None:
    with pytest.raises(ValueError, match="address") as raised:
        SocketClient(given, "arakoon")
    assert repr(given) in str(raised.value)


def test_an_ipv6_address_without_brackets_is_refused_with_the_form_to_use() -> None:
    with pytest.raises(ValueError, match=r"brackets, as in '\[::1\]:4000'"):
        SocketClient("::1:4000", "arakoon")


@pytest.mark.parametrize(
    "given",
    [
        4000,
        None,
        b"127.0.0.1:4000",
        ("127.0.0.1",),
        ("127.0.0.1", 4000, 0, 0),
        ("127.0.0.1", "4000"),
        ("127.0.0.1", 4000.0),
        ("127.0.0.1", True),
        (b"127.0.0.1", 4000),
    ],
)
def test_an_address_of_the_wrong_type_is_a_type_error_naming_it(given: Any) -> None:
    with pytest.raises(TypeError, match="address") as raised:
        SocketClient(given, "arakoon")
    assert repr(given) in str(raised.value)


def test_a_call_before_connect_says_to_call_connect_or_use_a_with_block() -> None:
    client = SocketClient(("127.0.0.1", 4000), "arakoon")
    with pytest.raises(NotConnectedError) as raised:
        client.get(b"k")
    assert str(raised.value) == (
        "cannot send get: the client is not connected; "
        "call connect() first, or use it in a with block"
    )
