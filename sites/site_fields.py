"""The site description's fields as people meet them: one table of labels, help texts, the
wizard's explanations, the guide's words and the guide rules each answer serves.

The one-page form, the wizard, the import help and the API schema read their words here, so a
field is explained once. The field *names* and their order come from the dataclasses
(``SiteDescription``, ``HostInterface``); a test keeps this table and them equal. Pure Python.
"""

from __future__ import annotations

import typing
from dataclasses import MISSING, dataclass, fields

from sites.description import HostInterface, SiteDescription
from sites.policy import GuideRule


@dataclass(frozen=True)
class FieldInfo:
    """How one field is asked for and explained.

    ``label`` and ``help`` are the one-page form's; ``why`` says in plain words what to answer
    and why it matters (the wizard), ``guide`` quotes the provider's guide where it asks for
    this, ``guide_rules`` are the guide's requirements the answer feeds (DESIGN.md). ``when``
    names the answer that makes the field relevant (``("host_addressing", "range")``);
    ``schema_help`` describes the site-file value for developers (the API schema).
    """

    name: str
    label: str
    help: str = ""
    why: str = ""
    guide: str = ""
    guide_rules: tuple[GuideRule, ...] = ()
    schema_help: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    when: tuple[str, object] | None = None
    optional: bool = False  # shown as optional in the wizard
    short_label: str = ""  # the review's label, where ``label`` is a whole sentence
    blank: str = "—"  # the review's words for an answer left blank

    @property
    def review_label(self) -> str:
        return self.short_label or self.label


_G = GuideRule
# Where vendors' interface names are not what a customer would guess.
_INTERFACE_NAMING = (
    "On PAN-OS it is the interface's name, e.g. ethernet1/1; on pfSense and OPNsense it is the "
    "interface's description as the Interfaces menu shows it (e.g. LAN, WAN, OPT1), not the "
    "device name such as igb0."
)

# In the site file's order (``SiteDescription.to_dict``, the CSV columns, the form).
SITE_FIELDS: tuple[FieldInfo, ...] = (
    FieldInfo(
        "name",
        "Name",
        help="How you call this site, e.g. “Main office”.",
        why="A name you will recognise in your list of sites, e.g. “Main office” or "
        "“Warehouse”. Each site gets its own instructions and its own proof that the "
        "ports are open.",
        schema_help="The site's name, unique in its organisation.",
    ),
    FieldInfo(
        "vendor",
        "Firewall",
        help="Your firewall's make; the instructions use its own menus and syntax.",
        why="The make of the firewall. The steps name its own menus and give configuration "
        "to paste in its own syntax. Not listed? Choose “Other firewall (plain instructions)”.",
        guide="“This will depend on the type of firewall you are using.”",
        guide_rules=(_G.BACKUP_OUTBOUND, _G.TRANSPARENCY, _G.REMOTE_MONITORING),
        schema_help="The firewall's renderer slug.",
    ),
    FieldInfo(
        "firmware",
        "Firmware version",
        help="As the firewall shows it, e.g. 7.2.8. Optional.",
        why="The version the firewall shows on its dashboard, e.g. 7.2.8. It is "
        "kept with the instructions, so whoever follows them knows which version they "
        "were written for.",
        optional=True,
        blank="not given",
        schema_help="The firewall's firmware or software version, as the customer sees it.",
    ),
    FieldInfo(
        "inside_interface",
        "Inside (LAN) interface",
        help="The firewall's name for the LAN side, e.g. port2, X0, inside. Blank: the vendor's "
        "usual name.",
        why="The firewall's name for the port your office network (LAN) is plugged into, "
        "e.g. port2, X0, inside. The backup rule is allowed on this side. Blank: the "
        "vendor's usual name is assumed, and the instructions say so. "
        f"{_INTERFACE_NAMING}",
        guide="“You must allow port 4401 for the TCP protocol for the inside network interface.”",
        guide_rules=(_G.BACKUP_OUTBOUND,),
        optional=True,
        blank="the vendor's usual name",
        schema_help="Blank: the vendor's usual name (with a warning).",
    ),
    FieldInfo(
        "outside_interface",
        "Outside (Internet) interface",
        help="The firewall's name for the Internet side, e.g. wan1, X1, outside.",
        why="The firewall's name for the port towards the Internet, e.g. wan1, X1, outside. "
        "The backup connection leaves through it and takes its address on the way out. "
        f"{_INTERFACE_NAMING}",
        guide="“SecuriData’s Online Backup needs transparency for the connection with "
        "SecuriData’s datacenter.”",
        guide_rules=(_G.TRANSPARENCY,),
        optional=True,
        blank="the vendor's usual name",
        schema_help="Blank: the vendor's usual name (with a warning).",
    ),
    FieldInfo(
        "public_address",
        "Public address",
        help="The firewall's Internet address. Leave blank if it changes (dynamic).",
        why="The firewall's address on the Internet. It matters for remote monitoring: the "
        "monitoring GUI connects to this address and the firewall forwards it to the "
        "backup host. Leave it blank if your Internet provider changes it.",
        guide_rules=(_G.REMOTE_MONITORING,),
        optional=True,
        blank="dynamic (it changes)",
        schema_help="The firewall's outside address; null: dynamic. Not inside the LAN.",
    ),
    FieldInfo(
        "lan_network",
        "LAN network",
        help="The network the backup host is on, e.g. 192.168.1.0/24.",
        why="The office network the backup host is on, written with its size, e.g. "
        "192.168.1.0/24. Every address below must be inside it, and no rule ever opens "
        "more than this network.",
        guide="“The inside network is considered to be ‘trusted’, while the outside "
        "network is not.”",
        guide_rules=(_G.BACKUP_OUTBOUND, _G.SOURCE_RESTRICTION),
        schema_help="CIDR without host bits, e.g. `192.168.1.0/24`.",
    ),
    FieldInfo(
        "lan_gateway",
        "Firewall's LAN address",
        help="The default gateway of the LAN, e.g. 192.168.1.1.",
        why="The firewall's own address on this network: the “default gateway” your "
        "computers use, e.g. 192.168.1.1. Traffic to the datacenter leaves through it.",
        guide_rules=(_G.BACKUP_OUTBOUND,),
        schema_help="The firewall's LAN address.",
    ),
    FieldInfo(
        "host_addressing",
        "The backup host has",
        help="With a fixed address the rule can allow only that computer (guide: restriction).",
        why="How the computer running the backup software gets its address. With a fixed "
        "address the rule lets only that computer out on the backup port; with a range, "
        "only those computers; with DHCP the address can change, so the whole network "
        "must be allowed unless the host has a DHCP reservation.",
        guide="“If you do not use DHCP for the Online Backup host computer … you can "
        "specify in the firewall that only the host computer's IP address can use port "
        "4401.”",
        guide_rules=(_G.SOURCE_RESTRICTION,),
        choices=(
            ("static", "A fixed address"),
            ("range", "One of a range of addresses (several backup hosts)"),
            ("dhcp", "An address from DHCP"),
        ),
        schema_help="How the backup host gets its address.",
    ),
    FieldInfo(
        "host_address",
        "Backup host address",
        help="Required for a fixed address, and whenever remote monitoring is on.",
        why="The backup host's IP address, e.g. 192.168.1.10. Needed for a fixed address, "
        "and whenever you monitor from outside, because the firewall forwards the "
        "monitoring ports to this one address. With DHCP: the reserved address.",
        guide_rules=(_G.SOURCE_RESTRICTION, _G.REMOTE_MONITORING),
        blank="not given",
        schema_help="Required with `static`, and whenever monitoring is on.",
    ),
    FieldInfo(
        "host_range_start",
        "Range from",
        why="The first address of the backup hosts.",
        guide="“Depending on your firewall's configuration, you may even be able to set "
        "up a range of IP addresses.”",
        guide_rules=(_G.SOURCE_RESTRICTION,),
        when=("host_addressing", "range"),
        schema_help="With `range`: the first backup host's address, inside the LAN.",
    ),
    FieldInfo(
        "host_range_end",
        "Range to",
        why="The last address of the backup hosts (included).",
        guide_rules=(_G.SOURCE_RESTRICTION,),
        when=("host_addressing", "range"),
        schema_help="With `range`: the last backup host's address (included), inside the LAN.",
    ),
    FieldInfo(
        "dhcp_reservation_planned",
        "The host has (or will get) a DHCP reservation at the address above",
        why="A DHCP reservation keeps the host at the address above, so the rule can name "
        "that one computer instead of the whole network. Tick it if the reservation "
        "exists or you will create it.",
        guide_rules=(_G.SOURCE_RESTRICTION,),
        when=("host_addressing", "dhcp"),
        short_label="DHCP reservation",
        schema_help="With `dhcp`: the host has (or will get) a reservation at `host_address`.",
    ),
    FieldInfo(
        "monitoring_enabled",
        "Monitor the backup with the Java GUI from outside",
        help="Opens TCP and UDP 4403 (and TCP 4401) from outside to the backup host.",
        why="Tick it if someone watches or controls the backup with the Java GUI from "
        "outside this network. The firewall then forwards TCP and UDP 4403 (and TCP "
        "4401) from its public address to the backup host. Leave it unticked if the "
        "GUI is only used inside the office: then nothing is opened inbound.",
        guide="“You must allow port 4403 (TCP and UDP) in addition to port 4401.”",
        guide_rules=(_G.REMOTE_MONITORING,),
        short_label="Remote monitoring",
        schema_help="The backup is monitored with the Java GUI from outside.",
    ),
    FieldInfo(
        "monitoring_sources",
        "Monitoring from",
        help="Addresses or networks the GUI connects from, one per line. Blank: from anywhere "
        "(not recommended).",
        why="The addresses the GUI connects from, one per line, e.g. your office's "
        "198.51.100.7 or a network such as 198.51.100.0/24. Only they may reach the "
        "forwarded ports. Blank means from anywhere on the Internet, which is not "
        "recommended.",
        guide_rules=(_G.REMOTE_MONITORING,),
        when=("monitoring_enabled", True),
        optional=True,
        blank="anywhere on the Internet (not recommended)",
        schema_help="Networks the monitoring GUI connects from; a bare address means /32.",
    ),
    FieldInfo(
        "host_os",
        "Backup host's operating system",
        why="The backup host's system. On Windows you also get the matching rule for the "
        "Windows firewall on the host itself, and the route commands for a host with "
        "several network cards.",
        guide_rules=(_G.HOST_FIREWALL,),
        choices=(
            ("windows", "Windows"),
            ("linux", "Linux"),
            ("macos", "macOS"),
            ("other", "Other"),
        ),
        schema_help="The backup host's operating system; `windows` adds host firewall rules.",
    ),
    FieldInfo(
        "multi_homed",
        "The backup host has more than one network interface with a default gateway",
        help="Then replies may leave by the wrong interface; the instructions add persistent "
        "routes (guide: multi-homed Windows).",
        why="Tick it if the backup host has more than one network card, each with a default "
        "gateway. Replies could then leave by the wrong card, so the instructions add "
        "persistent routes through this firewall.",
        guide="“… then you must modify the routing table manually to include the network "
        "from which the host machine is connecting.”",
        guide_rules=(_G.MULTI_HOMED_ROUTE,),
        short_label="Several network cards",
        schema_help="The backup host has more than one interface with a default gateway.",
    ),
    FieldInfo(
        "host_interfaces",
        "Interfaces",
        why="One row per network card, as Windows shows them (Get-NetAdapter or route "
        "print): its name, its interface index, its address, its network and its "
        "gateway.",
        guide_rules=(_G.MULTI_HOMED_ROUTE,),
        when=("multi_homed", True),
        schema_help="With `multi_homed`: at least two of the host's interfaces.",
    ),
    FieldInfo(
        "firewall_interface",
        "Host interface facing this firewall",
        help="The name of the interface below that connects to this firewall.",
        why="The name, as in the rows above, of the card that is plugged into this "
        "firewall's network. The routes go through it, and it keeps the only default "
        "gateway.",
        guide_rules=(_G.MULTI_HOMED_ROUTE,),
        when=("multi_homed", True),
        schema_help="With `multi_homed`: the host interface facing this firewall.",
    ),
)

# One row of ``host_interfaces``, in ``HostInterface``'s order.
INTERFACE_FIELDS: tuple[FieldInfo, ...] = (
    FieldInfo(
        "name",
        "Name",
        help="e.g. Ethernet 1",
        schema_help="As the host shows it (`Ethernet 2`), unique.",
    ),
    FieldInfo(
        "index",
        "Index",
        help="ifIndex, from Get-NetAdapter",
        schema_help="The interface index (`route print`).",
    ),
    FieldInfo("address", "Address", schema_help="Inside `network`."),
    FieldInfo(
        "network", "Network", help="e.g. 192.168.1.0/24", schema_help="CIDR, e.g. `192.168.2.0/24`."
    ),
    FieldInfo(
        "gateway",
        "Gateway",
        schema_help="Inside `network`; required for the interface facing the firewall.",
    ),
)

# Asked with the description but kept on the site record, not in the site file.
REVERIFY = FieldInfo(
    "reverify",
    "Renew the proof",
    help="After this long without a successful probe, the site is flagged as stale for you and "
    "your reseller.",
    why="How often you want to prove again that the ports are open. Firewall updates "
    "and changes can quietly close them; after this long without a successful probe "
    "the site is flagged as stale for you and your reseller.",
)


@dataclass(frozen=True)
class Section:
    """A group of questions asked together: a wizard step, a fieldset of the one-page form."""

    slug: str
    title: str
    names: tuple[str, ...]


SECTIONS: tuple[Section, ...] = (
    Section(
        "firewall",
        "Site and firewall",
        ("name", "vendor", "firmware", "inside_interface", "outside_interface", "public_address"),
    ),
    Section(
        "network",
        "Network and backup host",
        (
            "lan_network",
            "lan_gateway",
            "host_addressing",
            "host_address",
            "host_range_start",
            "host_range_end",
            "dhcp_reservation_planned",
            "host_os",
        ),
    ),
    Section(
        "monitoring",
        "Remote monitoring and multi-homed host",
        (
            "monitoring_enabled",
            "monitoring_sources",
            "multi_homed",
            "host_interfaces",
            "firewall_interface",
            REVERIFY.name,
        ),
    ),
)

_BY_NAME = {info.name: info for info in (*SITE_FIELDS, REVERIFY)}


def site_field(name: str) -> FieldInfo:
    """The table's row for a site-file field (or ``reverify``); ``KeyError`` if there is none."""
    return _BY_NAME[name]


def site_file_names() -> tuple[str, ...]:
    """The site file's field names, in the site file's order."""
    return tuple(info.name for info in SITE_FIELDS)


def required_names() -> tuple[str, ...]:
    """The fields every site file must give: the dataclass fields without a default."""
    return tuple(f.name for f in fields(SiteDescription) if f.default is MISSING)


def boolean_names() -> frozenset[str]:
    """The yes/no fields, as the dataclass types them."""
    hints = typing.get_type_hints(SiteDescription)
    return frozenset(name for name, hint in hints.items() if hint is bool)


def interface_names() -> tuple[str, ...]:
    """A host interface's parts, in ``HostInterface``'s order (the CSV writes them so)."""
    return tuple(f.name for f in fields(HostInterface))
