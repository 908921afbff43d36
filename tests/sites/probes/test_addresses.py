"""Address safety: the forms an inbound probe must refuse, and the ones it must accept.

No test here touches the network: names are resolved by fake resolver functions.
"""

import socket
from ipaddress import IPv4Address, IPv6Address

import pytest

from sites.description import PortSpec
from sites.probes.addresses import (
    ForbiddenAddress,
    ForbiddenPort,
    UnresolvableHost,
    check_port,
    check_target,
    parse_address,
    resolve_once,
)

# (input, a word the reason must contain). Refused with and without the lab setting.
ALWAYS_FORBIDDEN = [
    # unparsable, or IPv4 in a form inet_aton would guess at
    pytest.param("", "empty", id="empty"),
    pytest.param("localhost", "not an IP address", id="name-not-literal"),
    pytest.param("127.1", "four decimal numbers", id="v4-shorthand-127.1"),
    pytest.param("127.0.1", "four decimal numbers", id="v4-shorthand-3-parts"),
    pytest.param("0x7f.0.0.1", "four decimal numbers", id="v4-hex-octet"),
    pytest.param("0x7f000001", "four decimal numbers", id="v4-hex-integer"),
    pytest.param("017700000001", "four decimal numbers", id="v4-octal-integer"),
    pytest.param("0177.0.0.1", "four decimal numbers", id="v4-octal-octet"),
    pytest.param("2130706433", "four decimal numbers", id="v4-decimal-integer"),
    pytest.param("127.000.000.001", "four decimal numbers", id="v4-leading-zeros"),
    pytest.param("010.0.0.1", "four decimal numbers", id="v4-leading-zero-private"),
    pytest.param("256.1.1.1", "four decimal numbers", id="v4-octet-over-255"),
    pytest.param("1.2.3.4.5", "four decimal numbers", id="v4-five-parts"),
    pytest.param("1.2.3.", "four decimal numbers", id="v4-trailing-dot"),
    pytest.param("\uff11\uff12\uff17.0.0.1", "four decimal numbers", id="v4-fullwidth-digits"),
    pytest.param("\u0661.1.1.1", "four decimal numbers", id="v4-arabic-indic-digit"),
    pytest.param(" 8.8.8.8", "whitespace", id="leading-space"),
    pytest.param("8.8.8.8\n", "whitespace", id="trailing-newline"),
    pytest.param("8.8.8.8\t", "whitespace", id="trailing-tab"),
    pytest.param("fe80::1%eth0", "zone id", id="v6-zone-id"),
    pytest.param("2606:4700::1111%1", "zone id", id="v6-zone-id-global"),
    pytest.param("[2606:4700:4700::1111]", "brackets", id="v6-brackets"),
    pytest.param("[::1]:4403", "brackets", id="v6-brackets-port"),
    pytest.param("8.8.8.8:4403", "port", id="v4-with-port"),
    pytest.param("2606:4700:4700::1111::1", "not an IP address", id="v6-double-double-colon"),
    pytest.param("::ffff:127.000.0.1", "canonical", id="v6-v4-tail-leading-zeros"),
    pytest.param("::ffff:127.1", "canonical", id="v6-v4-tail-shorthand"),
    pytest.param("12345::1", "not an IP address", id="v6-group-too-long"),
    pytest.param("g::1", "not an IP address", id="v6-bad-hex"),
    # never allowed, even in the lab
    pytest.param("0.0.0.0", "unspecified", id="v4-unspecified"),
    pytest.param("::", "unspecified", id="v6-unspecified"),
    pytest.param("255.255.255.255", "broadcast", id="v4-broadcast"),
    pytest.param("224.0.0.1", "multicast", id="v4-multicast"),
    pytest.param("239.255.255.250", "multicast", id="v4-multicast-ssdp"),
    pytest.param("ff02::1", "multicast", id="v6-multicast"),
    pytest.param("0.1.2.3", "this network", id="v4-this-network-0/8"),
    pytest.param("240.0.0.1", "reserved", id="v4-reserved-240/4"),
    pytest.param("169.254.1.1", "link-local", id="v4-link-local"),
    pytest.param("169.254.169.254", "metadata", id="v4-cloud-metadata"),
    pytest.param("100.100.100.200", "metadata", id="v4-alibaba-metadata"),
    pytest.param("fd00:ec2::254", "metadata", id="v6-aws-metadata"),
    pytest.param("fe80::1", "link-local", id="v6-link-local"),
    pytest.param("fec0::1", "site-local", id="v6-site-local"),
    pytest.param("192.0.0.8", "IETF protocol", id="v4-ietf-protocol-assignments"),
    pytest.param("192.88.99.1", "6to4 relay", id="v4-6to4-relay-anycast"),
    pytest.param("100::1", "discard", id="v6-discard-only"),
    pytest.param("2001:10::1", "ORCHID", id="v6-orchid"),
    pytest.param("2001:20::1", "ORCHIDv2", id="v6-orchid-v2"),
    pytest.param("5f00::1", "SRv6", id="v6-srv6-sid"),
    pytest.param("::2", "IPv4-compatible", id="v6-reserved-::2"),
    pytest.param("4000::1", "2000::/3", id="v6-unassigned-4000::/3"),
    pytest.param("64:ff9b:1::a00:1", "local-use NAT64", id="v6-nat64-local-use"),
    # IPv4 inside IPv6: unwrapped and refused, naming what it carries
    pytest.param("::ffff:127.0.0.1", "127.0.0.1, which is loopback", id="v4-mapped-loopback"),
    pytest.param("::ffff:7f00:1", "127.0.0.1, which is loopback", id="v4-mapped-loopback-hex"),
    pytest.param("0:0:0:0:0:ffff:7f00:0001", "127.0.0.1", id="v4-mapped-loopback-exploded"),
    pytest.param("::FFFF:10.0.0.1", "10.0.0.1, which is private", id="v4-mapped-private-upper"),
    pytest.param("::ffff:169.254.169.254", "metadata", id="v4-mapped-metadata"),
    pytest.param("::ffff:0.0.0.0", "unspecified", id="v4-mapped-unspecified"),
    pytest.param("::ffff:8.8.8.8", "IPv4 address itself", id="v4-mapped-public"),
    pytest.param("::ffff:0:127.0.0.1", "IPv4-translated", id="v4-translated-loopback"),
    pytest.param("::127.0.0.1", "IPv4-compatible", id="v4-compatible-loopback"),
    pytest.param("::10.0.0.1", "IPv4-compatible", id="v4-compatible-private"),
    pytest.param("::8.8.8.8", "IPv4-compatible", id="v4-compatible-public"),
    pytest.param("2002:7f00:1::1", "127.0.0.1, which is loopback", id="6to4-loopback"),
    pytest.param("2002:a9fe:a9fe::", "metadata", id="6to4-metadata"),
    pytest.param("2002:c0a8:101::1", "192.168.1.1, which is private", id="6to4-private"),
    pytest.param("2002:808:808::1", "6to4", id="6to4-public-deprecated"),
    pytest.param(
        "2001:0:7f00:1:8000:f227:f5ff:fffe",
        "127.0.0.1, which is loopback",
        id="teredo-loopback-server",
    ),
    pytest.param(
        # client 10.0.0.1 is stored obfuscated (xor 0xffffffff) as f5ff:fffe
        "2001:0:808:808:8000:f227:f5ff:fffe",
        "10.0.0.1, which is private",
        id="teredo-private-client",
    ),
    pytest.param("64:ff9b::7f00:1", "127.0.0.1, which is loopback", id="nat64-loopback"),
    pytest.param("64:ff9b::10.1.2.3", "10.1.2.3, which is private", id="nat64-private"),
    pytest.param("64:ff9b::a9fe:a9fe", "metadata", id="nat64-metadata"),
    pytest.param("64:ff9b::e000:1", "multicast", id="nat64-multicast"),
]

# Refused by default, allowed by the lab setting (PROBE_ALLOW_PRIVATE).
LAB_ONLY = [
    pytest.param("127.0.0.1", "loopback", id="v4-loopback"),
    pytest.param("127.255.255.254", "loopback", id="v4-loopback-high"),
    pytest.param("::1", "loopback", id="v6-loopback"),
    pytest.param("10.0.0.1", "RFC 1918", id="rfc1918-10"),
    pytest.param("172.16.0.1", "RFC 1918", id="rfc1918-172.16"),
    pytest.param("172.31.255.255", "RFC 1918", id="rfc1918-172.31"),
    pytest.param("192.168.1.1", "RFC 1918", id="rfc1918-192.168"),
    pytest.param("fd12:3456::1", "unique local", id="v6-unique-local-fd"),
    pytest.param("fc00::1", "unique local", id="v6-unique-local-fc"),
    pytest.param("100.64.0.1", "carrier-grade NAT", id="shared-100.64/10"),
    pytest.param("100.127.255.254", "carrier-grade NAT", id="shared-100.64/10-high"),
    pytest.param("198.18.0.1", "benchmarking", id="benchmarking-198.18/15"),
    pytest.param("198.19.255.254", "benchmarking", id="benchmarking-198.19"),
    pytest.param("2001:2::1", "benchmarking", id="v6-benchmarking"),
    pytest.param("192.0.2.1", "documentation", id="doc-test-net-1"),
    pytest.param("198.51.100.7", "documentation", id="doc-test-net-2"),
    pytest.param("203.0.113.7", "documentation", id="doc-test-net-3"),
    pytest.param("2001:db8::1", "documentation", id="v6-doc-2001:db8"),
    pytest.param("3fff::1", "documentation", id="v6-doc-3fff::/20"),
]

PUBLIC = [
    pytest.param("8.8.8.8", id="google-dns"),
    pytest.param("1.1.1.1", id="cloudflare-dns"),
    pytest.param("9.9.9.9", id="quad9"),
    pytest.param("172.15.255.255", id="just-below-172.16/12"),
    pytest.param("172.32.0.1", id="just-above-172.16/12"),
    pytest.param("100.63.255.255", id="just-below-100.64/10"),
    pytest.param("100.128.0.1", id="just-above-100.64/10"),
    pytest.param("223.255.255.254", id="just-below-multicast"),
    pytest.param("2606:4700:4700::1111", id="cloudflare-v6"),
    pytest.param("2001:4860:4860::8888", id="google-v6"),
    pytest.param("2a00:1450:4001:82a::200e", id="v6-ripe"),
    pytest.param("2606:4700::6.6.6.6", id="v6-with-dotted-tail"),
    pytest.param("2606:4700:4700:0000:0000:0000:0000:1111", id="v6-exploded"),
    pytest.param("2606:4700:4700::1111".upper(), id="v6-upper-case"),
]


@pytest.mark.parametrize("allow_private", [False, True], ids=["default", "lab"])
@pytest.mark.parametrize(("address", "word"), ALWAYS_FORBIDDEN)
def test_always_forbidden(address, word, allow_private):
    with pytest.raises(ForbiddenAddress) as caught:
        check_target(address, allow_private=allow_private)
    assert word.lower() in caught.value.reason.lower()
    assert caught.value.address == address


@pytest.mark.parametrize(("address", "word"), LAB_ONLY)
def test_private_forbidden_by_default(address, word):
    with pytest.raises(ForbiddenAddress, match=word):
        check_target(address)


@pytest.mark.parametrize(("address", "word"), LAB_ONLY)
def test_private_allowed_by_the_lab_setting(address, word):
    assert check_target(address, allow_private=True) == parse_address(address)


@pytest.mark.parametrize("address", PUBLIC)
@pytest.mark.parametrize("allow_private", [False, True], ids=["default", "lab"])
def test_public_addresses_accepted(address, allow_private):
    accepted = check_target(address, allow_private=allow_private)
    assert isinstance(accepted, IPv4Address | IPv6Address)
    assert accepted == parse_address(address)


def test_nat64_of_a_public_address_is_accepted_and_stays_ipv6():
    assert check_target("64:ff9b::8.8.8.8") == IPv6Address("64:ff9b::808:808")


def test_at_least_forty_forbidden_forms_are_covered():
    assert len(ALWAYS_FORBIDDEN) + len(LAB_ONLY) >= 40
    assert len(ALWAYS_FORBIDDEN) >= 40


def test_reason_names_the_address_and_the_range():
    with pytest.raises(ForbiddenAddress) as caught:
        check_target("10.0.0.1")
    assert caught.value.reason == "10.0.0.1 is private (RFC 1918, 10.0.0.0/8)"
    assert str(caught.value) == caught.value.reason


@pytest.mark.parametrize(
    "value",
    [None, 2130706433, b"8.8.8.8", IPv6Address("fe80::1%eth0"), ["8.8.8.8"]],
    ids=["none", "int", "bytes", "scoped-ipv6-object", "list"],
)
def test_non_text_input_refused(value):
    with pytest.raises(ForbiddenAddress, match="not an IP address"):
        check_target(value, allow_private=True)


def test_address_objects_accepted():
    assert check_target(IPv4Address("8.8.8.8")) == IPv4Address("8.8.8.8")
    with pytest.raises(ForbiddenAddress, match="loopback"):
        check_target(IPv4Address("127.0.0.1"))


# ---------------------------------------------------------------------------------------------
# resolve_once


class FakeResolver:
    """Stands in for socket.getaddrinfo: answers from a table and counts calls."""

    def __init__(self, table=None, error=None):
        self.table = table or {}
        self.error = error
        self.calls = []

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        self.calls.append(host)
        if self.error is not None:
            raise self.error
        infos = []
        for address in self.table.get(host, []):
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, 0, 0, 0) if family == socket.AF_INET6 else (address, 0)
            infos.append((family, socket.SOCK_STREAM, 6, "", sockaddr))
        return infos


def test_literal_is_checked_without_any_lookup():
    resolver = FakeResolver()
    assert resolve_once("8.8.8.8", resolver=resolver) == IPv4Address("8.8.8.8")
    assert resolve_once("2606:4700:4700::1111", resolver=resolver) == IPv6Address(
        "2606:4700:4700::1111"
    )
    with pytest.raises(ForbiddenAddress, match="loopback"):
        resolve_once("127.0.0.1", resolver=resolver)
    assert resolver.calls == []


def test_name_resolved_once_and_first_address_pinned():
    resolver = FakeResolver({"fw.example.com": ["8.8.4.4", "8.8.8.8", "2001:4860:4860::8888"]})
    assert resolve_once("fw.example.com", resolver=resolver) == IPv4Address("8.8.4.4")
    assert resolver.calls == ["fw.example.com"]


def test_absolute_name_with_trailing_dot():
    resolver = FakeResolver({"fw.example.com.": ["8.8.8.8"]})
    assert resolve_once("fw.example.com.", resolver=resolver) == IPv4Address("8.8.8.8")
    assert resolver.calls == ["fw.example.com."]


@pytest.mark.parametrize(
    "answers",
    [
        ["8.8.8.8", "127.0.0.1"],
        ["127.0.0.1", "8.8.8.8"],
        ["8.8.8.8", "::ffff:10.0.0.1"],
        ["2606:4700:4700::1111", "fe80::1%eth0"],
        ["1.1.1.1", "169.254.169.254"],
    ],
    ids=[
        "public-then-loopback",
        "loopback-first",
        "mapped-private",
        "scoped-link-local",
        "metadata",
    ],
)
def test_name_refused_when_any_address_is_forbidden(answers):
    resolver = FakeResolver({"rebind.example.net": answers})
    with pytest.raises(ForbiddenAddress, match=r"rebind\.example\.net resolves to a forbidden"):
        resolve_once("rebind.example.net", resolver=resolver)
    assert resolver.calls == ["rebind.example.net"]


def test_lab_setting_applies_to_resolved_addresses():
    resolver = FakeResolver({"lab.test": ["127.0.0.1", "10.0.0.5"]})
    assert resolve_once("lab.test", allow_private=True, resolver=resolver) == IPv4Address(
        "127.0.0.1"
    )
    resolver.table["lab.test"] = ["10.0.0.5", "224.0.0.1"]
    with pytest.raises(ForbiddenAddress, match="multicast"):
        resolve_once("lab.test", allow_private=True, resolver=resolver)


@pytest.mark.parametrize(
    "host",
    [
        "127.1",
        "0x7f.1",
        "2130706433",
        "017700000001",
        "127.000.000.001",
        "1.2.3.4:80",
        "fe80::1%eth0",
        "[::1]",
        " fw.example.com",
        "fw.example.com\n",
        "fw..example.com",
        "-fw.example.com",
        "fw_example.com",
        "fw.exämple.com",
        "a" * 64 + ".com",
        "",
    ],
    ids=[
        "shorthand",
        "hex-shorthand",
        "integer",
        "octal",
        "leading-zeros",
        "port",
        "zone",
        "brackets",
        "space",
        "newline",
        "empty-label",
        "leading-hyphen",
        "underscore",
        "non-ascii",
        "label-too-long",
        "empty",
    ],
)
def test_bad_hosts_refused_before_any_lookup(host):
    resolver = FakeResolver({host: ["8.8.8.8"]})
    with pytest.raises(ForbiddenAddress):
        resolve_once(host, allow_private=True, resolver=resolver)
    assert resolver.calls == []


def test_unresolvable_name():
    resolver = FakeResolver(error=socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    with pytest.raises(UnresolvableHost, match="did not resolve"):
        resolve_once("nowhere.example.com", resolver=resolver)
    with pytest.raises(UnresolvableHost, match="any address"):
        resolve_once("empty.example.com", resolver=FakeResolver({"empty.example.com": []}))


# ---------------------------------------------------------------------------------------------
# check_port


def test_only_the_profiles_ports():
    assert check_port(4403, [4401, 4403]) == 4403
    with pytest.raises(ForbiddenPort, match="port 22 is not one of the service profile's ports"):
        check_port(22, [4401, 4403])


def test_port_specs_match_the_protocol():
    specs = [PortSpec("tcp", 4401), PortSpec("tcp", 4403), PortSpec("udp", 4403)]
    assert check_port(4401, specs, protocol="tcp") == 4401
    assert check_port(4403, specs, protocol="udp") == 4403
    with pytest.raises(ForbiddenPort, match="UDP port 4401"):
        check_port(4401, specs, protocol="udp")


@pytest.mark.parametrize(
    "port",
    [0, -1, 65536, True, "4403", 4403.0, None],
    ids=["zero", "negative", "too-big", "bool", "str", "float", "none"],
)
def test_not_a_port(port):
    with pytest.raises(ForbiddenPort):
        check_port(port, [4403, 0, 1, 65536])
