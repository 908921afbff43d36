"""The packet lab: generated iptables/nftables rules loaded into network namespaces and proved
with real sockets. See docs/packet-lab.md."""
