"""Which addresses a callback may reach. Pure.

By default only globally routable unicast addresses: loopback, private,
link-local (which holds cloud metadata at 169.254.169.254), CGNAT, multicast,
reserved, unspecified, IPv6 ULA and documentation ranges are refused, and so
are IPv6 forms that embed an IPv4 address (mapped, 6to4, NAT64, Teredo)
whose embedded address is refused. Configured networks are allowed anyway.

A host written as a number other than a canonical dotted quad (`2130706433`,
`127.1`, `0177.0.0.1`, `0x7f.1`, `127.0.0.1.`) is refused whatever it means:
clients disagree on such forms (some aiohttp versions connect to them without
resolving, newer ones refuse them), so the guard decides, not the client.
Each refusal comes with a reason a person can act on.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # deprecated, IANA-reserved


def parse_networks(networks: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(n, strict=False) for n in networks)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.teredo is not None:
        return address.teredo[1]
    if address in _SIX_TO_FOUR:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_forbidden(address: Address | str, allowed: Iterable[Network] = ()) -> bool:
    """True if a callback must not connect to `address`."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if any(ip.version == net.version and ip in net for net in allowed):
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return is_forbidden(embedded, allowed)
    if ip.is_multicast or ip.is_unspecified or ip.is_loopback or ip.is_link_local:
        return True
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip in _SITE_LOCAL:
        return True
    return ip.is_private or ip.is_reserved or not ip.is_global


ALLOW_SETTING = "HOOKLINE_CALLBACKS_ALLOW_NETWORKS"
_HEX_DIGITS = frozenset("0123456789abcdef")
_PRIVATE_V4 = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
_ULA = ipaddress.ip_network("fc00::/7")


def _number_part(part: str) -> int | None:
    """One dotted part as C's inet_aton reads it: 0x hex, leading-0 octal, else decimal."""
    if part[:2] in ("0x", "0X"):
        digits = part[2:].lower()
        return int(digits or "0", 16) if set(digits) <= _HEX_DIGITS else None
    if not (part.isascii() and part.isdigit()):
        return None
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8) if set(part) <= set("01234567") else None
    return int(part)


def ends_in_number(host: str) -> bool:
    """True if the last label of `host` is a number, so URL parsers read the host as IPv4.

    The WHATWG URL standard's "ends in a number" rule: such a host is never a
    DNS name (no top-level domain is numeric).
    """
    labels = host.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    last = labels[-1]
    if last[:2] in ("0x", "0X"):
        return set(last[2:].lower()) <= _HEX_DIGITS
    return last != "" and last.isascii() and last.isdigit()


def numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The address that inet_aton-style parsing reads from a numeric host, if it is one.

    `2130706433`, `127.1`, `0177.0.0.1`, `0x7f.1` and `127.0.0.1.` all mean 127.0.0.1.
    """
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if not 1 <= len(parts) <= 4 or "" in parts:
        return None
    numbers = [_number_part(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    *head, last = [n for n in numbers if n is not None]
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(parts)):
        return None
    value = last
    for i, n in enumerate(head):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def numeric_host_refusal(host: str) -> str | None:
    """Why `host` is refused for being a number other than a canonical dotted quad; or None.

    Clients disagree on such forms (some connect, some refuse, some resolve them
    as names), so they are refused whatever the address they mean.
    """
    if not host or ":" in host or not ends_in_number(host):
        return None  # empty, IPv6 (never numeric), or a name
    try:
        if str(ipaddress.IPv4Address(host)) == host:
            return None
    except ValueError:
        pass
    meant = numeric_ipv4(host)
    if meant is None:
        return f"destination host {host} ends in a number but is not an IPv4 address"
    return (
        f"destination host {host} is a non-canonical numeric form of {meant}; "
        f"write the address as {meant}"
    )


def _kind(ip: Address) -> tuple[str, str | None]:
    """What a forbidden address is, and the network to allow it with (None: do not)."""
    if ip.is_loopback:
        return "a loopback address", "127.0.0.0/8" if ip.version == 4 else "::1/128"
    if ip.is_link_local:
        network = "169.254.0.0/16" if ip.version == 4 else "fe80::/10"
        return "a link-local address (where cloud metadata services answer)", network
    if ip.is_unspecified:
        return "the unspecified address", None
    if ip.is_multicast:
        return "a multicast address", None
    for private in (*_PRIVATE_V4, _ULA):
        if ip.version == private.version and ip in private:
            return "a private address", str(private)
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "a shared (CGNAT) address", str(_CGNAT)
    return "a reserved, non-global address", f"{ip}/{ip.max_prefixlen}"


def address_refusal(
    address: Address | str, allowed: Iterable[Network] = (), *, host: str | None = None
) -> str | None:
    """Why a callback may not connect to `address` (reached through the name `host`), or None.

    The reason names the kind of address and the setting that would allow it.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if not is_forbidden(ip, allowed):
        return None
    inner = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    kind, network = _kind(inner if inner is not None else ip)
    if host is not None and host != str(ip):
        what = f"{host} resolves to {ip}, " + (f"which embeds {inner}, " if inner else "")
    else:
        what = f"{ip} embeds {inner}, " if inner else f"{ip} is "
    reason = f"destination {what}{kind}"
    if network is None:
        return f"{reason}; callbacks are never sent there"
    advice = f"allow it with {ALLOW_SETTING}={network}"
    if network in ("127.0.0.0/8", "::1/128"):
        advice += " (development only)"
    elif network in ("169.254.0.0/16", "fe80::/10"):
        advice += " (this exposes cloud metadata)"
    return f"{reason}; {advice}"


def is_ip_literal(host: str) -> bool:
    """True if `host` is an IP address (brackets optional), not a name to resolve."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def host_refusal(host: str, allowed: Iterable[Network] = ()) -> str | None:
    """Why a URL's host is refused before any connection, or None (a name is left to the resolver).

    `host` is the URL's host as the client sends it (IDNA-encoded, brackets optional).
    """
    numeric = numeric_host_refusal(host)
    if numeric is not None:
        return numeric
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    return address_refusal(ip, allowed)
