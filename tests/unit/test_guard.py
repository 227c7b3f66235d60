"""The private-address predicate that keeps callbacks off internal networks."""

from __future__ import annotations

import ipaddress

import pytest

from hookline.guard import (
    address_refusal,
    host_refusal,
    is_forbidden,
    numeric_host_refusal,
    numeric_ipv4,
    parse_networks,
)


def teredo(server: str, client: str) -> str:
    """A Teredo address (2001::/32) for `client` behind `server`, client obfuscated per RFC 4380."""
    server_bits = int(ipaddress.IPv4Address(server))
    client_bits = int(ipaddress.IPv4Address(client)) ^ 0xFFFFFFFF
    port_bits = 40000 ^ 0xFFFF
    value = (0x2001_0000 << 96) | (server_bits << 64) | (0x8000 << 48) | (port_bits << 32)
    return str(ipaddress.IPv6Address(value | client_bits))


TEREDO_PRIVATE = teredo("65.54.227.120", "192.168.1.1")
TEREDO_PUBLIC = teredo("65.54.227.120", "8.8.8.8")

REFUSED = [
    pytest.param("127.0.0.1", id="loopback"),
    pytest.param("127.255.255.254", id="loopback-top"),
    pytest.param("10.1.2.3", id="private-10"),
    pytest.param("172.16.0.1", id="private-172.16"),
    pytest.param("172.31.255.254", id="private-172.31"),
    pytest.param("192.168.1.1", id="private-192.168"),
    pytest.param("169.254.169.254", id="cloud-metadata"),
    pytest.param("100.64.0.1", id="cgnat"),
    pytest.param("100.127.255.254", id="cgnat-top"),
    pytest.param("0.0.0.0", id="unspecified-v4"),  # noqa: S104 - refused, not bound
    pytest.param("224.0.0.1", id="multicast-v4"),
    pytest.param("255.255.255.255", id="broadcast"),
    pytest.param("240.0.0.1", id="reserved-v4"),
    pytest.param("192.0.2.1", id="documentation-v4"),
    pytest.param("::1", id="loopback-v6"),
    pytest.param("::", id="unspecified-v6"),
    pytest.param("fe80::1", id="link-local-v6"),
    pytest.param("fe80::1%eth0", id="link-local-v6-scoped"),
    pytest.param("fc00::1", id="ula-fc"),
    pytest.param("fd12::1", id="ula-fd"),
    pytest.param("ff02::1", id="multicast-v6"),
    pytest.param("2001:db8::1", id="documentation-v6"),
    pytest.param("::ffff:127.0.0.1", id="mapped-loopback"),
    pytest.param("::ffff:10.0.0.1", id="mapped-private"),
    pytest.param("::ffff:169.254.169.254", id="mapped-metadata"),
    pytest.param("2002:7f00:1::", id="6to4-loopback"),
    pytest.param("2002:c0a8:101::", id="6to4-private"),
    pytest.param("64:ff9b::7f00:1", id="nat64-loopback"),
    pytest.param("64:ff9b::a9fe:a9fe", id="nat64-metadata"),
    pytest.param(TEREDO_PRIVATE, id="teredo-private-client"),
    pytest.param(
        "fec0::1",
        id="site-local-v6",
    ),
]

ALLOWED = [
    pytest.param("8.8.8.8", id="google-dns"),
    pytest.param("1.1.1.1", id="cloudflare-dns"),
    pytest.param("2606:4700:4700::1111", id="cloudflare-dns-v6"),
    pytest.param("::ffff:8.8.8.8", id="mapped-public"),
    pytest.param("64:ff9b::808:808", id="nat64-public"),
    pytest.param("2002:808:808::", id="6to4-public"),
    pytest.param(TEREDO_PUBLIC, id="teredo-public-client"),
]


def test_teredo_helper_embeds_the_client() -> None:
    """The Teredo fixtures carry the client address the guard must look at."""
    assert ipaddress.IPv6Address(TEREDO_PRIVATE).teredo == (
        ipaddress.IPv4Address("65.54.227.120"),
        ipaddress.IPv4Address("192.168.1.1"),
    )


@pytest.mark.parametrize("address", REFUSED)
def test_non_global_address_is_refused_by_default(address: str) -> None:
    """A loopback, private, link-local, CGNAT, multicast or reserved address is refused."""
    assert is_forbidden(address) is True


@pytest.mark.parametrize("address", ALLOWED)
def test_global_address_is_allowed_by_default(address: str) -> None:
    """A globally routable unicast address, bare or embedded in IPv6, is allowed."""
    assert is_forbidden(address) is False


@pytest.mark.parametrize(
    ("address", "forbidden"),
    [
        pytest.param(ipaddress.IPv4Address("127.0.0.1"), True, id="loopback"),
        pytest.param(ipaddress.IPv4Address("169.254.169.254"), True, id="cloud-metadata"),
        pytest.param(ipaddress.IPv6Address("::1"), True, id="loopback-v6"),
        pytest.param(ipaddress.IPv6Address("::ffff:10.0.0.1"), True, id="mapped-private"),
        pytest.param(ipaddress.IPv4Address("8.8.8.8"), False, id="public"),
        pytest.param(ipaddress.IPv6Address("2606:4700:4700::1111"), False, id="public-v6"),
    ],
)
def test_ipaddress_objects_are_judged_like_strings(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, forbidden: bool
) -> None:
    """An ipaddress object gets the same answer as its string form."""
    assert is_forbidden(address) is forbidden
    assert is_forbidden(str(address)) is forbidden


DEV_NETWORKS = ("127.0.0.0/8", "::1/128", "10.0.0.0/8")


@pytest.mark.parametrize(
    "address",
    [
        pytest.param("127.0.0.1", id="loopback"),
        pytest.param("127.255.255.254", id="loopback-top"),
        pytest.param("::1", id="loopback-v6"),
        pytest.param("10.0.0.1", id="private-10"),
        pytest.param("10.255.255.254", id="private-10-top"),
        pytest.param("::ffff:127.0.0.1", id="mapped-loopback"),
        pytest.param("::ffff:10.0.0.1", id="mapped-private-10"),
        pytest.param(ipaddress.IPv4Address("127.0.0.1"), id="loopback-object"),
        pytest.param(ipaddress.IPv6Address("::1"), id="loopback-v6-object"),
    ],
)
def test_allow_listed_networks_are_allowed(
    address: str | ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    """An address inside a configured network is allowed despite being private."""
    allowed = parse_networks(DEV_NETWORKS)

    assert is_forbidden(address) is True
    assert is_forbidden(address, allowed) is False


@pytest.mark.parametrize(
    "address",
    [
        pytest.param("192.168.1.1", id="private-192.168"),
        pytest.param("172.16.0.1", id="private-172.16"),
        pytest.param("169.254.169.254", id="cloud-metadata"),
        pytest.param("100.64.0.1", id="cgnat"),
        pytest.param("0.0.0.0", id="unspecified-v4"),  # noqa: S104 - refused, not bound
        pytest.param("::", id="unspecified-v6"),
        pytest.param("::2", id="next-to-loopback-v6"),
        pytest.param("fe80::1", id="link-local-v6"),
        pytest.param("fd12::1", id="ula"),
        pytest.param("::ffff:192.168.1.1", id="mapped-private-192.168"),
    ],
)
def test_addresses_outside_allow_list_stay_refused(address: str) -> None:
    """Allowing some networks leaves every other forbidden address refused."""
    assert is_forbidden(address, parse_networks(DEV_NETWORKS)) is True


def test_allow_list_keeps_public_addresses_allowed() -> None:
    """A public address stays allowed when an allow-list is configured."""
    assert is_forbidden("8.8.8.8", parse_networks(DEV_NETWORKS)) is False


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param(["127.0.0.0/8"], [ipaddress.IPv4Network("127.0.0.0/8")], id="v4-network"),
        pytest.param(["::1/128"], [ipaddress.IPv6Network("::1/128")], id="v6-host-network"),
        pytest.param(["10.1.2.3/8"], [ipaddress.IPv4Network("10.0.0.0/8")], id="host-bits-dropped"),
        pytest.param(["192.168.1.7"], [ipaddress.IPv4Network("192.168.1.7/32")], id="bare-v4"),
        pytest.param(["fd00::1"], [ipaddress.IPv6Network("fd00::1/128")], id="bare-v6"),
        pytest.param([], [], id="empty"),
    ],
)
def test_parse_networks_reads_cidr_strings(given: list[str], expected: list[object]) -> None:
    """Configured networks parse into ipaddress networks, host bits tolerated."""
    assert list(parse_networks(given)) == expected


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("localhost", id="name"),
        pytest.param("10.0.0.0/33", id="prefix-too-long"),
        pytest.param("", id="empty-string"),
    ],
)
def test_parse_networks_rejects_garbage(bad: str) -> None:
    """A setting that is not a network fails with ValueError."""
    with pytest.raises(ValueError, match="does not appear to be"):
        parse_networks([bad])


NON_CANONICAL = [
    pytest.param("2130706433", "127.0.0.1", id="decimal"),
    pytest.param("017700000001", "127.0.0.1", id="octal-whole"),
    pytest.param("0x7f000001", "127.0.0.1", id="hex-whole"),
    pytest.param("0X7F000001", "127.0.0.1", id="hex-whole-upper"),
    pytest.param("127.1", "127.0.0.1", id="short-two-parts"),
    pytest.param("127.0.1", "127.0.0.1", id="short-three-parts"),
    pytest.param("0177.0.0.1", "127.0.0.1", id="octal-part"),
    pytest.param("0x7f.1", "127.0.0.1", id="hex-part"),
    pytest.param("127.000.000.001", "127.0.0.1", id="zero-padded"),
    pytest.param("127.0.0.1.", "127.0.0.1", id="trailing-dot"),
    pytest.param("0", "0.0.0.0", id="zero"),  # noqa: S104 - refused, not bound
    pytest.param("0x", "0.0.0.0", id="bare-hex-prefix"),  # noqa: S104 - refused, not bound
    pytest.param("2852039166", "169.254.169.254", id="decimal-metadata"),
    pytest.param("0xa9.0xfe.0xa9.0xfe", "169.254.169.254", id="hex-metadata"),
    pytest.param("134744072", "8.8.8.8", id="decimal-public"),
    pytest.param("8.8.8.8.", "8.8.8.8", id="trailing-dot-public"),
]


@pytest.mark.parametrize(("host", "meant"), NON_CANONICAL)
def test_non_canonical_numeric_host_is_refused_naming_the_address(host: str, meant: str) -> None:
    """A numeric host other than a dotted quad is refused, public or not, saying what it means."""
    assert numeric_ipv4(host) == ipaddress.IPv4Address(meant)
    reason = numeric_host_refusal(host)
    assert reason == (
        f"destination host {host} is a non-canonical numeric form of {meant}; "
        f"write the address as {meant}"
    )
    assert host_refusal(host, parse_networks(["0.0.0.0/0"])) == reason


@pytest.mark.parametrize(
    "host",
    [
        pytest.param("1.2.3.4.5", id="five-parts"),
        pytest.param("256.0.0.1", id="part-over-255"),
        pytest.param("4294967296", id="over-32-bits"),
        pytest.param("1.16777216", id="last-part-too-big"),
        pytest.param("09.0.0.1", id="bad-octal"),
        pytest.param("0xg.1", id="bad-hex"),
        pytest.param("example.123", id="name-ending-in-number"),
        pytest.param("1..1", id="empty-part"),
    ],
)
def test_host_ending_in_a_number_that_is_no_address_is_refused(host: str) -> None:
    """A host whose last label is a number but that parses as no IPv4 address is refused."""
    assert numeric_ipv4(host) is None
    assert numeric_host_refusal(host) == (
        f"destination host {host} ends in a number but is not an IPv4 address"
    )


@pytest.mark.parametrize(
    "host",
    [
        pytest.param("127.0.0.1", id="canonical-v4"),
        pytest.param("8.8.8.8", id="canonical-public"),
        pytest.param("example.com", id="name"),
        pytest.param("example.com.", id="name-trailing-dot"),
        pytest.param("1password.com", id="name-starting-with-digit"),
        pytest.param("123.example", id="numeric-first-label"),
        pytest.param("0x7f.example", id="hex-looking-first-label"),
        pytest.param("::1", id="v6"),
        pytest.param("::ffff:127.0.0.1", id="v6-dotted-tail"),
        pytest.param("", id="empty"),
    ],
)
def test_canonical_quads_names_and_v6_are_not_numeric_refusals(host: str) -> None:
    """Dotted quads, DNS names and IPv6 literals are left to the address checks."""
    assert numeric_host_refusal(host) is None


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        pytest.param(
            "127.0.0.1",
            "destination 127.0.0.1 is a loopback address; allow it with "
            "HOOKLINE_CALLBACKS_ALLOW_NETWORKS=127.0.0.0/8 (development only)",
            id="loopback",
        ),
        pytest.param(
            "::1",
            "destination ::1 is a loopback address; allow it with "
            "HOOKLINE_CALLBACKS_ALLOW_NETWORKS=::1/128 (development only)",
            id="loopback-v6",
        ),
        pytest.param(
            "10.1.2.3",
            "destination 10.1.2.3 is a private address; allow it with "
            "HOOKLINE_CALLBACKS_ALLOW_NETWORKS=10.0.0.0/8",
            id="private-10",
        ),
        pytest.param(
            "172.20.0.5",
            "destination 172.20.0.5 is a private address; allow it with "
            "HOOKLINE_CALLBACKS_ALLOW_NETWORKS=172.16.0.0/12",
            id="private-172",
        ),
        pytest.param(
            "fd12::1",
            "destination fd12::1 is a private address; allow it with "
            "HOOKLINE_CALLBACKS_ALLOW_NETWORKS=fc00::/7",
            id="ula",
        ),
        pytest.param(
            "169.254.169.254",
            "destination 169.254.169.254 is a link-local address (where cloud metadata "
            "services answer); allow it with HOOKLINE_CALLBACKS_ALLOW_NETWORKS=169.254.0.0/16 "
            "(this exposes cloud metadata)",
            id="metadata",
        ),
        pytest.param(
            "100.64.0.1",
            "destination 100.64.0.1 is a shared (CGNAT) address; allow it with "
            "HOOKLINE_CALLBACKS_ALLOW_NETWORKS=100.64.0.0/10",
            id="cgnat",
        ),
        pytest.param(
            "0.0.0.0",  # noqa: S104 - refused, not bound
            "destination 0.0.0.0 is the unspecified address; callbacks are never sent there",
            id="unspecified",
        ),
        pytest.param(
            "224.0.0.1",
            "destination 224.0.0.1 is a multicast address; callbacks are never sent there",
            id="multicast",
        ),
        pytest.param(
            "192.0.2.1",
            "destination 192.0.2.1 is a reserved, non-global address; allow it with "
            "HOOKLINE_CALLBACKS_ALLOW_NETWORKS=192.0.2.1/32",
            id="documentation",
        ),
        pytest.param(
            "::ffff:127.0.0.1",
            "destination ::ffff:7f00:1 embeds 127.0.0.1, a loopback address; allow it with "
            "HOOKLINE_CALLBACKS_ALLOW_NETWORKS=127.0.0.0/8 (development only)",
            id="mapped-loopback",
        ),
        pytest.param("8.8.8.8", None, id="public"),
    ],
)
def test_address_refusal_names_the_kind_and_the_setting(address: str, reason: str | None) -> None:
    """A refused address's reason says what it is and what to set; an allowed one has none."""
    assert address_refusal(address) == reason
    assert host_refusal(address) == reason


def test_refusal_through_a_name_says_what_it_resolved_to() -> None:
    """For a name, the reason names both the host and the refused address."""
    assert address_refusal("127.0.0.1", host="localhost") == (
        "destination localhost resolves to 127.0.0.1, a loopback address; allow it with "
        "HOOKLINE_CALLBACKS_ALLOW_NETWORKS=127.0.0.0/8 (development only)"
    )
    assert address_refusal("::ffff:10.0.0.1", host="x.test") == (
        "destination x.test resolves to ::ffff:a00:1, which embeds 10.0.0.1, a private "
        "address; allow it with HOOKLINE_CALLBACKS_ALLOW_NETWORKS=10.0.0.0/8"
    )


@pytest.mark.parametrize(
    "host",
    [
        pytest.param("127.0.0.1", id="loopback"),
        pytest.param("[::1]", id="bracketed-v6"),
        pytest.param("example.com", id="name"),
    ],
)
def test_allowed_networks_and_names_leave_no_refusal(host: str) -> None:
    """An allowed literal, or a name (judged by the resolver), is not refused by the host check."""
    assert host_refusal(host, parse_networks(DEV_NETWORKS)) is None
