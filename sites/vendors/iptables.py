"""Linux iptables (a Linux router or firewall box doing NAT for the LAN).

Targets iptables 1.8 with either backend (legacy or nf_tables) and the ``iptables-restore``
file format; checked here with ``iptables-restore --test``.

The output is one ``iptables-restore`` file, one step per table, so the steps' configuration
concatenated in order is a complete file with a single ``COMMIT`` per table:

- ``*filter``: an ``ESTABLISHED,RELATED`` accept (replies must pass whatever the chain's
  policy is), the outbound accepts, and, with monitoring, the inbound accepts. FORWARD sees
  packets after destination NAT, so inbound accepts name the host's *private* address. Rules
  are inserted at numbered positions (``-I FORWARD n``) so they come before any final
  DROP/REJECT rule the customer already has.
- ``*nat``: ``MASQUERADE`` for the backup traffic only (transparency), and one ``DNAT`` per
  protocol and port for monitoring, restricted to the monitoring sources as well, so the host is
  not exposed when the FORWARD policy happens to be ACCEPT.

The file must be loaded with ``--noflush``: without it ``iptables-restore`` replaces every rule
of the tables it names.
"""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, guide_rules_of, verification_steps

LOAD = "iptables-restore --noflush"


class IptablesRenderer(Renderer):
    slug = "iptables"
    name = "Linux iptables"
    versions = "iptables 1.8 (legacy and nf_tables backends), iptables-restore format"
    renderer_version = 2  # 2: inbound accepts require --ctstate DNAT
    supports_ranges = True  # -m iprange
    hides_lan_by_default = False
    default_interfaces = ("lan0", "wan0")

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        inside, outside = self.interfaces(site)
        ports = sorted({r.port for r in policy.rules if r.port is not None and not r.kind.on_host})
        grep = "|".join(str(p) for p in ports)
        steps = [
            Step(
                title="Allow the backup traffic through the firewall (filter table)",
                gui_path="Command line",
                config=self._filter_table(policy, inside, outside),
                config_language="iptables-restore",
                reason=(
                    "Lets the backup host reach the datacenter"
                    + (
                        ", lets the monitoring GUI reach the backup host,"
                        if policy.of_kind(RuleKind.ALLOW_INBOUND)
                        else ""
                    )
                    + " and lets the replies of those connections back. "
                    f"Save the file and load it once with `{LOAD} FILE`: --noflush keeps your "
                    "other rules, and loading it twice adds the rules twice."
                ),
                verify=f"iptables -S FORWARD | grep -E -- 'ESTABLISHED|--dport ({grep})'",
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
                    + " (nat table)"
                ),
                gui_path="Command line",
                config=self._nat_table(policy, site, outside),
                config_language="iptables-restore",
                reason=(
                    "Masquerades the backup connections behind the firewall's outside address "
                    "(the guide's transparency)"
                    + (
                        ", and forwards the monitoring ports from the public address to the "
                        "backup host"
                        if policy.of_kind(RuleKind.DESTINATION_NAT)
                        else ""
                    )
                    + f". Load it together with the filter table (`{LOAD} FILE`)."
                ),
                verify=f"iptables -t nat -S | grep -E -- '--dport ({grep})'",
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
                + "\niptables -t nat -L POSTROUTING -v -n  # the MASQUERADE counters rise"
            ),
            inbound_verify=(
                "# while the portal checks, the DNAT and FORWARD counters rise:\n"
                "iptables -t nat -L PREROUTING -v -n\n"
                "iptables -L FORWARD -v -n"
            ),
        )
        return steps

    def _filter_table(self, policy: Policy, inside: str, outside: str) -> str:
        lines = ["*filter"]
        position = iter(range(1, 10_000))

        def insert(rule_text: str) -> None:
            lines.append(f"-I FORWARD {next(position)} {rule_text}")

        lines.append("# Replies to allowed connections; does not rely on the chain's policy.")
        insert("-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT")
        for rule in policy.of_kind(RuleKind.ALLOW_OUTBOUND):
            lines.append(f"# {rule.reason.label}: backup host -> datacenter, {rule.port_spec}.")
            for destination in rule.datacenter:
                insert(
                    f"-i {inside} -o {outside} {_source(rule.required_hosts)} -d {destination} "
                    f"{_port(rule)} -j ACCEPT"
                )
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        if inbound:
            lines.append(
                "# FORWARD sees forwarded packets after DNAT: match the private address, and only"
                " connections that came through the port-forward (--ctstate DNAT)."
            )
        for rule in inbound:
            lines.append(f"# {rule.reason.label}: monitoring GUI -> backup host, {rule.port_spec}.")
            for source in _sources(rule.allowed_sources):
                insert(
                    f"-i {outside} -o {inside}{source} -d {rule.required_hosts.start}/32 "
                    f"{_port(rule)} -m conntrack --ctstate DNAT -j ACCEPT"
                )
        lines.append("COMMIT")
        return "\n".join(lines) + "\n"

    def _nat_table(self, policy: Policy, site: SiteDescription, outside: str) -> str:
        lines = ["*nat"]
        for rule in policy.of_kind(RuleKind.SOURCE_NAT):
            lines.append(
                f"# {rule.reason.label}: backup connections leave with the outside address."
            )
            for destination in rule.datacenter:
                lines.append(
                    f"-A POSTROUTING -o {outside} {_source(rule.required_hosts)} -d {destination} "
                    f"{_port(rule)} -j MASQUERADE"
                )
        for rule in policy.of_kind(RuleKind.DESTINATION_NAT):
            # A dynamic public address: match "addressed to this firewall" instead of -d.
            to_firewall = (
                f"-d {rule.public_address}/32"
                if rule.public_address
                else "-m addrtype --dst-type LOCAL"
            )
            lines.append(f"# {rule.reason.label}: forward {rule.port_spec} to the backup host.")
            for source in _sources(rule.allowed_sources):
                lines.append(
                    f"-A PREROUTING -i {outside}{source} {to_firewall} {_port(rule)} "
                    f"-j DNAT --to-destination {rule.required_hosts.start}:{rule.port}"
                )
        lines.append("COMMIT")
        return "\n".join(lines) + "\n"


def _source(hosts: HostMatch) -> str:
    if hosts.kind == "range":
        return f"-m iprange --src-range {hosts}"
    return f"-s {hosts.networks()[0]}"


def _sources(networks: tuple[IPv4Network, ...]) -> Iterator[str]:
    """One ``-s`` per allowed source, or a single empty match for "any source"."""
    if not networks:
        yield ""
    for network in networks:
        yield f" -s {network}"


def _port(rule: Rule) -> str:
    return f"-p {rule.protocol} -m {rule.protocol} --dport {rule.port}"
