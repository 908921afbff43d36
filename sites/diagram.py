"""A site's network diagram as SVG, drawn on the server from its description and rules.

Pure: a stored site description (the site-file dict) and the instruction set's rules (dicts, see
``sites.instructions.rule_as_dict``) in, an SVG string out. Left to right: the LAN with the backup
host, the firewall (with its address translation), the Internet, and on the right the datacenter
and, with remote monitoring, the monitoring computers. The rules are the labelled arrows.
Every text is escaped: names come from the customer.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

_QUOTES = {'"': "&quot;"}  # escape() leaves quotes alone: attributes need them escaped too
WIDTH, HEIGHT = 920, 330
LAN = (20, 60, 230, 210)  # x, y, width, height
FIREWALL = (320, 85, 200, 160)
DATACENTER = (690, 30, 210, 95)
MONITOR = (690, 205, 210, 95)


def _ports(rules: list[dict], kind: str) -> str:
    seen = []
    for rule in rules:
        if rule["kind"] == kind and "port" in rule:
            label = f"{rule['protocol'].upper()} {rule['port']}"
            if label not in seen:
                seen.append(label)
    return ", ".join(seen)


def _box(x, y, w, h, title, lines, css) -> str:
    parts = [
        f'<g class="{css}"><rect x="{x}" y="{y}" width="{w}" height="{h}" rx="10"/>',
        f'<text x="{x + 12}" y="{y + 24}" class="title">{escape(title)}</text>',
    ]
    for n, line in enumerate(lines):
        parts.append(f'<text x="{x + 12}" y="{y + 46 + 18 * n}">{escape(line)}</text>')
    parts.append("</g>")
    return "".join(parts)


def _arrow(x1, y1, x2, y2, labels: list[str], css, label_dy=-10, label_x=None) -> str:
    """An arrow with its label lines stacked above (label_dy < 0) or below it."""
    mid_x, mid_y = label_x or (x1 + x2) / 2, (y1 + y2) / 2 + label_dy
    if label_dy < 0:
        mid_y -= 16 * (len(labels) - 1)
    lines = "".join(
        f'<text x="{mid_x:.0f}" y="{mid_y + 16 * n:.0f}" text-anchor="middle">{escape(label)}</text>'
        for n, label in enumerate(labels)
    )
    return (
        f'<g class="arrow {css}"><line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" '
        f'marker-end="url(#head)"/>{lines}</g>'
    )


def render_diagram(description: dict, rules: list[dict], *, vendor_name: str) -> str:
    """The SVG for one site; ``rules`` are the current instruction set's."""
    host = description.get("host_address") or description.get("lan_network", "")
    if description.get("host_addressing") == "range":
        host = f"{description['host_range_start']} – {description['host_range_end']}"
    elif description.get("host_addressing") == "dhcp" and not description.get(
        "dhcp_reservation_planned"
    ):
        host = f"DHCP in {description.get('lan_network', '')}"
    public = description.get("public_address") or "dynamic address"
    datacenter = sorted(
        {net for r in rules if r["kind"] == "allow_outbound" for net in r.get("datacenter", [])}
    )
    monitoring = description.get("monitoring_enabled")
    sources = description.get("monitoring_sources") or ["any address"]
    nat = next((r for r in rules if r["kind"] == "source_nat"), None)

    lan_lines = [
        f"Backup host: {host}",
        f"LAN {description.get('lan_network', '')}",
        f"Gateway {description.get('lan_gateway', '')}",
    ]
    if description.get("multi_homed"):
        lan_lines.append("Multi-homed: static routes")
    firewall_lines = [
        vendor_name[:24],
        f"inside: {description.get('inside_interface') or '(default)'}",
        f"outside: {description.get('outside_interface') or '(default)'}",
        f"public: {public}",
        "NAT: hide behind public" if nat else "",
    ]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="Network diagram of {escape(description.get("name", "the site"), _QUOTES)}" '
        'class="diagram">',
        '<defs><marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>',
        '<ellipse class="cloud" cx="605" cy="165" rx="60" ry="125"/>',
        '<text x="605" y="170" text-anchor="middle" fill="#5b6672">Internet</text>',
        _box(*LAN, "LAN", lan_lines, "lan"),
        _box(*FIREWALL, "Firewall", [line for line in firewall_lines if line], "firewall"),
        _box(
            *DATACENTER, "Backup datacenter", datacenter[:3] or ["(profile networks)"], "datacenter"
        ),
    ]
    outbound = _ports(rules, "allow_outbound")
    parts.append(_arrow(250, 120, 320, 130, [outbound or "outbound"], "out"))
    parts.append(_arrow(520, 125, 690, 78, [outbound, f"from {public}"], "out"))
    if monitoring:
        inbound = _ports(rules, "allow_inbound")
        parts.append(_box(*MONITOR, "Monitoring GUI", [", ".join(sources)[:30]], "monitor"))
        parts.append(
            _arrow(690, 255, 520, 215, [inbound, f"to {public}"], "in", label_dy=26, label_x=590)
        )
        parts.append(_arrow(320, 225, 250, 235, ["port-forward"], "in", label_dy=22))
    parts.append("</svg>")
    return "".join(parts)
