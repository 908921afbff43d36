"""Linux nftables (a Linux router or firewall box doing NAT for the LAN).

Targets nftables 1.0 and later (Debian 12, Ubuntu 22.04+, RHEL 9); named chain priorities
(``priority filter``, ``srcnat``, ``dstnat``) need 0.9.6 or later. Checked here with
``nft -c -f``.

The output is one file for ``nft -f``, one step per table:

- ``table inet filter``: declares the usual ``forward`` base chain *without* a policy (an
  existing chain keeps its own) and a regular chain ``backup_forward`` holding, in order,
  ``ct state established,related accept`` (replies must pass whatever the policy is), the
  outbound accepts and, with monitoring, the inbound accepts on the host's *private* address
  (forward sees packets after DNAT). One ``insert rule … jump backup_forward`` puts it at the
  top of ``forward``, before any final drop or reject rule.
- ``table ip nat``: ``masquerade`` for the backup traffic only (transparency) and one
  ``dnat ip to`` per protocol and port for monitoring, restricted to the monitoring sources.

An accept in one table does not override a drop in another: if the customer's ruleset keeps its
forward rules in another table (firewalld's ``inet firewalld``, a custom name), the rules belong
there; the step says so.
"""

from __future__ import annotations

from ipaddress import IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, guide_rules_of, verification_steps

CHAIN = "backup_forward"


class NftablesRenderer(Renderer):
    slug = "nftables"
    name = "Linux nftables"
    versions = "nftables 1.0 and later (named priorities need 0.9.6+)"
    renderer_version = 2  # 2: inbound accepts require ct status dnat
    supports_ranges = True  # ip saddr A-B
    hides_lan_by_default = False
    default_interfaces = ("lan0", "wan0")

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        inside, outside = self.interfaces(site)
        steps = [
            Step(
                title="Allow the backup traffic through the firewall (inet filter table)",
                gui_path="Command line",
                config=self._filter_table(policy, inside, outside),
                config_language="nft",
                reason=(
                    "Lets the backup host reach the datacenter"
                    + (
                        ", lets the monitoring GUI reach the backup host,"
                        if policy.of_kind(RuleKind.ALLOW_INBOUND)
                        else ""
                    )
                    + " and lets the replies of those connections back. "
                    "Save the file, check it with `nft -c -f FILE`, then load it once with "
                    "`nft -f FILE` (loading twice adds the rules twice). If your forward rules "
                    "live in another table (e.g. firewalld), put these rules there instead: an "
                    "accept in one table does not override a drop in another."
                ),
                verify=f"nft list chain inet filter {CHAIN}\nnft list chain inet filter forward",
                guide_rules=guide_rules_of(
                    policy.of_kind(RuleKind.ALLOW_OUTBOUND, RuleKind.ALLOW_INBOUND)
                ),
            ),
            Step(
                title=(
                    "Translate the backup connections"
                    + (
                        " and forward the monitoring ports"
                        if policy.of_kind(RuleKind.DESTINATION_NAT)
                        else ""
                    )
                    + " (ip nat table)"
                ),
                gui_path="Command line",
                config=self._nat_table(policy, outside),
                config_language="nft",
                reason=(
                    "Masquerades the backup connections behind the firewall's outside address "
                    "(the guide's transparency)"
                    + (
                        ", and forwards the monitoring ports from the public address to the "
                        "backup host"
                        if policy.of_kind(RuleKind.DESTINATION_NAT)
                        else ""
                    )
                    + ". Load it with the filter table (`nft -f FILE`)."
                ),
                verify="nft list table ip nat",
                guide_rules=guide_rules_of(
                    policy.of_kind(RuleKind.SOURCE_NAT, RuleKind.DESTINATION_NAT)
                ),
            ),
        ]
        steps += verification_steps(
            policy,
            gui_path="Command line",
            outbound_verify=(
                "# while the probe runs on the backup host:\n"
                + "\n".join(
                    f"conntrack -L -p {r.protocol} --dport {r.port}"
                    for r in policy.of_kind(RuleKind.ALLOW_OUTBOUND)
                )
            ),
            inbound_verify=(
                "# while the portal checks, the forwarded connections appear:\n"
                + "\n".join(
                    f"conntrack -L -p {r.protocol} --dport {r.port} --dst-nat"
                    for r in policy.of_kind(RuleKind.DESTINATION_NAT)
                )
            ),
        )
        return steps

    def _filter_table(self, policy: Policy, inside: str, outside: str) -> str:
        rules = [
            "# Replies to allowed connections; does not rely on the chain's policy.",
            "ct state established,related accept",
        ]
        for rule in policy.of_kind(RuleKind.ALLOW_OUTBOUND):
            rules.append(f"# {rule.reason.label}: backup host -> datacenter, {rule.port_spec}.")
            rules.append(
                f'iifname "{inside}" oifname "{outside}" ip saddr {_hosts(rule.required_hosts)} '
                f"ip daddr {_set(rule.datacenter)} {_port(rule)} accept"
            )
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        if inbound:
            rules.append(
                "# forward sees forwarded packets after DNAT: match the private address, and only"
                " connections that came through the port-forward (ct status dnat)."
            )
        for rule in inbound:
            rules.append(f"# {rule.reason.label}: monitoring GUI -> backup host, {rule.port_spec}.")
            rules.append(
                f'iifname "{outside}" oifname "{inside}"{_saddr(rule.allowed_sources)} '
                f"ip daddr {rule.required_hosts.start} {_port(rule)} ct status dnat accept"
            )
        body = "\n".join(f"\t\t{line}" for line in rules)
        return (
            "table inet filter {\n"
            "\t# No policy here: an existing forward chain keeps its own.\n"
            "\tchain forward {\n"
            "\t\ttype filter hook forward priority filter;\n"
            "\t}\n"
            f"\tchain {CHAIN} {{\n{body}\n\t}}\n"
            "}\n"
            "# At the top of forward, before any final drop or reject rule.\n"
            f"insert rule inet filter forward jump {CHAIN}\n"
        )

    def _nat_table(self, policy: Policy, outside: str) -> str:
        chains = []
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        if forwards:
            lines = []
            for rule in forwards:
                # A dynamic public address: match "addressed to this firewall" instead.
                to_firewall = (
                    f"ip daddr {rule.public_address}"
                    if rule.public_address
                    else "fib daddr type local"
                )
                lines.append(f"# {rule.reason.label}: forward {rule.port_spec} to the backup host.")
                lines.append(
                    f'iifname "{outside}"{_saddr(rule.allowed_sources)} {to_firewall} '
                    f"{_port(rule)} dnat ip to {rule.required_hosts.start}:{rule.port}"
                )
            chains.append(_nat_chain("prerouting", "dstnat", lines))
        lines = []
        for rule in policy.of_kind(RuleKind.SOURCE_NAT):
            lines.append(
                f"# {rule.reason.label}: backup connections leave with the outside address."
            )
            lines.append(
                f'oifname "{outside}" ip saddr {_hosts(rule.required_hosts)} '
                f"ip daddr {_set(rule.datacenter)} {_port(rule)} masquerade"
            )
        chains.append(_nat_chain("postrouting", "srcnat", lines))
        return "table ip nat {\n" + "".join(chains) + "}\n"


def _nat_chain(hook: str, priority: str, lines: list[str]) -> str:
    body = "\n".join(f"\t\t{line}" for line in lines)
    return f"\tchain {hook} {{\n\t\ttype nat hook {hook} priority {priority};\n{body}\n\t}}\n"


def _hosts(hosts: HostMatch) -> str:
    return str(hosts)  # 192.168.1.10, 192.168.1.10-192.168.1.20 or 192.168.1.0/24: all valid nft


def _set(networks: tuple[IPv4Network, ...]) -> str:
    """One value as is; several as an anonymous set."""
    if len(networks) == 1:
        return _address(networks[0])
    return "{ " + ", ".join(_address(n) for n in networks) + " }"


def _saddr(networks: tuple[IPv4Network, ...]) -> str:
    """`` ip saddr …`` for the allowed sources, or nothing for "any source"."""
    return f" ip saddr {_set(networks)}" if networks else ""


def _address(network: IPv4Network) -> str:
    return str(network.network_address) if network.prefixlen == 32 else str(network)


def _port(rule: Rule) -> str:
    return f"{rule.protocol} dport {rule.port}"
