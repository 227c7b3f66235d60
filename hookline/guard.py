"""Which addresses a callback may reach. Pure.

By default only globally routable unicast addresses: loopback, private,
link-local (which holds cloud metadata at 169.254.169.254), CGNAT, multicast,
reserved, unspecified, IPv6 ULA and documentation ranges are refused, and so
are IPv6 forms that embed an IPv4 address (mapped, 6to4, NAT64, Teredo)
whose embedded address is refused. Configured networks are allowed anyway.
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
