"""The network diagram is well-formed SVG naming the site's addresses and ports, and escapes text."""

import xml.etree.ElementTree as ET

from sites.description import GUIDE_PROFILE, SiteDescription
from sites.diagram import render_diagram
from sites.instructions import build_instructions
from tests.factories import site_description


def diagram(**overrides) -> str:
    data = SiteDescription.from_dict(site_description(**overrides))
    content = build_instructions(data, GUIDE_PROFILE)
    return render_diagram(data.to_dict(), content.rules, vendor_name="Fortinet FortiGate")


def texts(svg: str) -> str:
    root = ET.fromstring(svg)
    return " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))


def test_outbound_only_site_shows_host_nat_and_datacenter():
    words = texts(diagram())
    assert "Backup host: 192.168.1.10" in words
    assert "203.0.113.0/24" in words and "TCP 4401" in words
    assert "NAT: hide behind public" in words
    assert "Monitoring GUI" not in words


def test_monitoring_adds_the_monitor_and_the_forwarded_ports():
    words = texts(diagram(monitoring_enabled=True, monitoring_sources=["198.51.100.7"]))
    assert "Monitoring GUI" in words and "198.51.100.7/32" in words
    assert (
        "TCP 4403, UDP 4403, TCP 4401" in words
        and "to 192.0.2.1" in words
        and "port-forward" in words
    )


def test_customer_text_is_escaped():
    svg = diagram(name='<script>alert("x")</script>', inside_interface="<b>lan</b>")
    assert "<script>" not in svg and "<b>" not in svg
    ET.fromstring(svg)  # still well-formed
