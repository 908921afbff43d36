"""OPNsense (web GUI).

Targets OPNsense 24.1 and 24.7 (and 25.1, whose pages are the same): the menus and field names
of their web GUI. From 25.7 the port forward page is Firewall › NAT › Destination NAT and its
"Filter rule association" choices are Manual / Pass / Register rule; the step says so. The
output is what to enter, field by field; OPNsense's API covers only some of these objects in
these versions, so the GUI is the common ground.

- Aliases (Firewall › Aliases): ``OBM_DC`` (Network(s)) holds the datacenter networks; a range of
  backup hosts is one Host(s) alias ``OBM_HOSTS`` (OPNsense accepts ``a.b.c.d-a.b.c.e`` there,
  so ranges are supported); known monitoring sources are ``OBM_MONITOR`` (Network(s)). A single
  host or the LAN (DHCP without reservation) is typed into the rule as "Single host or Network".
- Outbound: one pass rule on Firewall › Rules › LAN per backup port, direction in; states let
  the replies back.
- Transparency: "Automatic outbound NAT rule generation" (the default) translates the LAN to the
  WAN address, so this is a *check* step on Firewall › NAT › Outbound, with the rule to add when
  the mode is Manual (or Hybrid without the LAN).
- Monitoring: a port forward takes TCP/UDP in one rule, so TCP and UDP 4403 are one port forward
  and TCP 4401 another, restricted to ``OBM_MONITOR``. "Add associated filter rule" creates the
  WAN pass rule, which names the *private* address of the host: pf filters after the
  destination has been translated. That rule is a *check* step.
- Dynamic public address: the port forward's destination is "WAN address", which follows the
  address the provider assigns; Services › Dynamic DNS gives the monitoring GUI a name.

Markers: as on pfSense, every alias, rule, outbound NAT mapping and port forward carries
``obm:<site>:<key>`` at the start of its Description (``<descr>`` in ``/conf/config.xml``); removal
is GUI text (OPNsense's API does not cover port forwards in these versions), and deleting a port
forward deletes its associated filter rule (``firewall_nat.php``: "delete nat rule and associated
rule if it exists").

OPNsense is a fork of pfSense, and its renderer is the pfSense one (``pfsense.py``) with
OPNsense's menus, dialog fields and wording.
"""

from __future__ import annotations

from ipaddress import IPv4Network

from sites.description import ProfileSpec
from sites.policy import HostMatch, Rule
from sites.vendors.pfsense import HOSTS_ALIAS, MONITOR_ALIAS, PfsenseRenderer


class OpnsenseRenderer(PfsenseRenderer):
    slug = "opnsense"
    name = "OPNsense"
    versions = (
        "OPNsense 24.1, 24.7 and 25.1 (web GUI; 25.7+ renames Port Forward to Destination NAT)"
    )
    renderer_version = 2  # 2: markers in every Description
    markers_since = 2
    supports_ranges = True  # a Host(s) alias accepts a.b.c.d-a.b.c.e
    hides_lan_by_default = True  # automatic outbound NAT
    default_interfaces = ("LAN", "WAN")

    product = "OPNsense"
    apply = "Click Save, then Apply changes."
    apply_button = "Apply changes"
    states_path = "Firewall › Diagnostics › States"
    shell = "# or in a shell:"

    alias_path = "Firewall › Aliases › + (Add)"
    alias_list = "Firewall › Aliases"
    alias_howto = "Create one alias per block (+, fill in, Save); after the last one click Apply."
    range_alias_note = ""
    alias_check = (
        "Firewall › Diagnostics › Aliases: select each alias; it lists exactly the entries above."
    )
    alias_in_use = (
        'OPNsense refuses to delete an alias a rule still names ("Alias in use"); the rules that '
        "name it are deleted before it."
    )

    rule_path = "Firewall › Rules › {inside} › + (Add)"
    rule_fields = (
        "Action: Pass\n"
        "Quick: checked (the default)\n"
        "Interface: {inside}\n"
        "Direction: in\n"
        "TCP/IP Version: IPv4\n"
        "Protocol: {protocol}\n"
        "Source: {source}\n"
        "Destination: {datacenter}\n"
        "Destination port range: from (other) {port} to (other) {port}\n"
        "Log: checked (Log packets that are handled by this rule)\n"
        "Description: {description}"
    )
    rule_order = (
        "Rules on the {inside} tab filter what enters the firewall from the {inside}; quick rules "
        "are evaluated top down, first match wins: move this rule above any block rule there. "
        'If the "Default allow LAN to any rule" is still in place the traffic already passes;'
    )
    rule_counters = "its state and packet counters rise while the backup runs (inspect toggle)."

    nat_mode_fields = (
        "Mode: Automatic outbound NAT rule generation (the default), or Hybrid.\n"
        "Automatic rules: a rule on interface {outside} whose source includes {lan} (the "
        "{inside} network), translated to the {outside} address.\n"
        "\n"
        "Only if the mode is Manual, or Hybrid without such a rule: + (Add), then Save and "
        "Apply changes:"
    )
    nat_mapping_path = "Firewall › NAT › Outbound › + (Add)"
    nat_mapping_list = "Firewall › NAT › Outbound (manual rules)"
    nat_mapping_condition = (
        "Only if the Mode is Manual outbound NAT rule generation, or Hybrid without an automatic "
        "rule for the {inside} network"
    )
    nat_mapping_fields = (
        "Interface: {outside}\n"
        "TCP/IP Version: IPv4\n"
        "Protocol: {protocol}\n"
        "Source address: {source}, Source port: any\n"
        "Destination address: {datacenter}, Destination port: (other) {port}\n"
        "Translation / target: Interface address\n"
        "Description: {description}"
    )
    nat_check = (
        "Firewall › NAT › Outbound shows the mode and, under the automatic or manual rules, a "
        "rule covering the backup host."
    )

    port_forward_path = (
        "Firewall › NAT › Port Forward › + (Add) (25.7 and later: Firewall › NAT › Destination NAT)"
    )
    port_forward_list = "Firewall › NAT › Port Forward (25.7 and later: Destination NAT)"
    port_forward_fields = (
        "Interface: {outside}\n"
        "TCP/IP Version: IPv4\n"
        "Protocol: {protocol}\n"
        "Source (Advanced): {source}, Source port range: any\n"
        "Destination: {destination}\n"
        "Destination port range: from (other) {port} to (other) {port}\n"
        "Redirect target IP: Single host or Network — {host}\n"
        "Redirect target port: (other) {port}\n"
        "Description: {description}\n"
        "NAT reflection: Use system default\n"
        "Filter rule association: Add associated filter rule"
    )
    a_port_forward = "An OPNsense port forward"
    associated_rule = '"Add associated filter rule" (25.7 and later: "Register rule")'
    port_forward_check = "Firewall › NAT › Port Forward lists the port forwards, enabled."

    inbound_order = "They must sit above any block rule on {outside}."
    monitor_source = MONITOR_ALIAS

    def _outbound_states_check(
        self, outbound: tuple[Rule, ...], outside: str, profile: ProfileSpec
    ) -> list[str]:
        return [
            f"{self.states_path}, search "
            + ", then ".join(str(r.port) for r in outbound)
            + f": while the probe runs, a state on {outside} shows the backup host translated "
            f"to the {outside} address, to a datacenter address on the backup port.",
            "Firewall › Log Files › Live View: the logged pass rule (its description starts "
            f"with obm: and names {profile.name}) shows each new backup connection.",
        ]

    def _inbound_states_check(self, host: str) -> str:
        return (
            f"{self.states_path}, search {host}: while the portal checks, the forwarded "
            "connections appear, each to the backup host on a monitoring port."
        )

    def _source(self, hosts: HostMatch) -> str:
        if hosts.kind == "address":
            return f"Single host or Network — {hosts.start}/32"
        if hosts.kind == "range":
            return f"{HOSTS_ALIAS} ({hosts})"
        return (
            f"Single host or Network — {hosts.network} (the whole LAN, because the host's address "
            "comes from DHCP)"
        )

    def _nat_source(self, hosts: HostMatch) -> str:
        if hosts.kind == "address":
            return f"Single host or Network — {hosts.start}/32"
        if hosts.kind == "range":
            return HOSTS_ALIAS
        return f"Single host or Network — {hosts.network}"

    def _network_entry(self, network: IPv4Network) -> str:
        return str(network)

    def _source_entry(self, network: IPv4Network, rule: Rule) -> str:
        # Content is one list without descriptions: the alias's Description says who is in it.
        return self._network_entry(network)

    def _alias_block(self, name: str, kind: str, entries: list[str], description: str) -> str:
        return "\n".join(
            [
                "Enabled: checked",
                f"Name: {name}",
                f"Type: {kind}",
                "Content: " + " ".join(entries),
                f"Description: {description}",
            ]
        )
