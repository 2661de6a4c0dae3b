"""Outgoing HTTP requests to URLs that users supply (webhooks): the SSRF guard (RELIABILITY S11,
OWASP API7).

A URL is acceptable when
- it is ``https`` (``http`` only in the ``dev`` profile, and only to an allow-listed host), has a
  host, no user-info (``https://trusted@evil/`` tricks), no whitespace, backslash or control
  character, and is at most 2048 characters;
- every address its host resolves to is a public unicast address: loopback, private, link-local
  (cloud metadata at 169.254.169.254), shared (100.64/10), multicast, reserved, unspecified,
  site-local and IPv4 addresses embedded in IPv6 (mapped, 6to4, NAT64, Teredo) that are any of
  those are refused. Hosts the operator allow-lists (``PREVENTION_WEBHOOK_ALLOW_HOSTS``, exact
  names or addresses) skip this address check: they are trusted by configuration.

The check runs when the URL is saved and again before every request, and the request then goes
to the address that was checked (``pinned``: the URL's host is replaced by that address, the
``Host`` header and the TLS server name keep the name, so certificates are still verified for the
name). A DNS answer that changes between the check and the connection (rebinding) therefore
cannot redirect the request. Redirects are never followed: the client is built with
``follow_redirects=False`` (``outbound_client``).

The same ``httpx.URL`` parser validates and sends, so the two cannot disagree about the host.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import httpx

__all__ = [
    "MAX_URL_LENGTH",
    "OutboundPolicy",
    "PinnedRequest",
    "Resolver",
    "UrlRefused",
    "check_url",
    "forbidden_address",
    "outbound_client",
    "parse_url",
    "system_resolver",
]

MAX_URL_LENGTH = 2048
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")


class UrlRefused(ValueError):
    """The URL may not be requested. ``reason`` is safe to show and log: it never repeats the URL
    (which may carry a secret). ``transient`` marks a failure worth retrying (DNS unavailable)."""

    def __init__(self, reason: str, *, transient: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


@dataclass(frozen=True)
class OutboundPolicy:
    """``profile`` is PREVENTION_PROFILE; ``allow_hosts`` lower-case names or addresses."""

    profile: str = "prod"
    allow_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_values(cls, profile: str, allow_hosts: Iterable[str] | str) -> OutboundPolicy:
        if isinstance(allow_hosts, str):
            allow_hosts = allow_hosts.split(",")
        hosts = frozenset(h.strip().lower().strip("[]").rstrip(".") for h in allow_hosts if h.strip())
        return cls(profile=profile, allow_hosts=hosts)

    def allow_listed(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.allow_hosts


@dataclass(frozen=True)
class PinnedRequest:
    """Where to send: ``url`` has the checked address as its host."""

    url: httpx.URL
    headers: dict[str, str]
    extensions: dict[str, str]


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def forbidden_address(ip: IpAddress) -> str | None:
    """Why ``ip`` may not be contacted, or None when it is a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "a scoped IPv6 address"
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return forbidden_address(embedded)
        if ip.is_site_local:
            return "a site-local address"
    checks = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED, "a shared (carrier-grade NAT) address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a public address"),
    )
    return next((why for bad, why in checks if bad), None)


def parse_url(raw: str, policy: OutboundPolicy) -> httpx.URL:
    """Syntax, scheme and allow-list checks, without any network access."""
    if not isinstance(raw, str) or not raw:
        raise UrlRefused("is required")
    if len(raw) > MAX_URL_LENGTH:
        raise UrlRefused(f"must be at most {MAX_URL_LENGTH} characters")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F or c == "\\" for c in raw):
        raise UrlRefused("must not contain whitespace, control characters or backslashes")
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise UrlRefused("is not a valid URL") from None
    if url.scheme not in ("https", "http"):
        raise UrlRefused("must be an https URL")
    host = url.raw_host.decode("ascii").lower()
    if not host:
        raise UrlRefused("must name a host")
    if url.userinfo:
        raise UrlRefused("must not contain user information (user:password@)")
    if url.scheme == "http" and not (policy.profile == "dev" and policy.allow_listed(host)):
        raise UrlRefused("must be an https URL")
    return url


async def check_url(raw: str, policy: OutboundPolicy, *, resolver: Resolver | None = None) -> PinnedRequest:
    """Validates ``raw`` completely (syntax, scheme, every resolved address) and returns the
    request to make, pinned to the first checked address. Raises ``UrlRefused``."""
    url = parse_url(raw, policy)
    host = url.raw_host.decode("ascii").lower()
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        literal: IpAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            answers = await (resolver or system_resolver)(host, port)
        except (OSError, UnicodeError):
            raise UrlRefused("host name does not resolve", transient=True) from None
        try:
            addresses = [ipaddress.ip_address(a) for a in answers]
        except ValueError:
            raise UrlRefused("host name resolves to an invalid address") from None
        if not addresses:
            raise UrlRefused("host name does not resolve", transient=True)
    if not policy.allow_listed(host):
        for address in addresses:
            why = forbidden_address(address)
            if why is not None:
                raise UrlRefused(f"host is {why}")
    target = str(addresses[0])
    extensions = {}
    if url.scheme == "https" and literal is None:
        extensions["sni_hostname"] = host
    return PinnedRequest(
        url=url.copy_with(host=target, fragment=None),
        headers={"Host": url.netloc.decode("ascii")},
        extensions=extensions,
    )


def outbound_client(*, timeout: float) -> httpx.AsyncClient:
    """The client for pinned requests: no redirects, no proxies or .netrc from the environment
    (a proxy would re-resolve the name), no connection reuse (a pooled connection to an address
    must not carry a request for another name)."""
    return httpx.AsyncClient(
        follow_redirects=False, trust_env=False, timeout=httpx.Timeout(timeout),
        limits=httpx.Limits(max_keepalive_connections=0),
    )
