"""Words the customer reads match what the portal offers (issue #13, points 14 and 16)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from sites.description import DescriptionError, SiteDescription
from sites.site_fields import SITE_FIELDS
from sites.vendors import RENDERERS
from tests.sites.vendors.example_sites import BASE_SITE, MONITORING, make_site, render

ROOT = Path(__file__).resolve().parents[2]
FIELDS = {f.name: f for f in SITE_FIELDS}


def field_text(name: str) -> str:
    info = FIELDS[name]
    return f"{info.help} {info.why}"


def test_vendor_help_names_the_option_the_list_offers():
    assert RENDERERS["generic"].name in field_text("vendor")
    assert "Generic firewall" not in field_text("vendor")


def test_public_address_error_gives_a_public_example():
    with pytest.raises(DescriptionError) as caught:
        SiteDescription.from_dict({**BASE_SITE, "public_address": "not-an-address"})
    message = " ".join(caught.value.errors["public_address"])
    assert "203.0.113.7" in message
    assert "192.168." not in message


def test_juniper_destination_nat_path_reads_as_menus():
    steps = render("juniper-srx", make_site(**MONITORING)).steps
    paths = [s.gui_path for s in steps if "Destination NAT" in s.gui_path]
    assert paths == ["Network › NAT › Destination NAT › Pool › Add, then Rule Set › Add"]


def test_paloalto_first_step_names_interface_and_zone_conventions():
    first = render("paloalto", make_site(**MONITORING)).steps[0]
    assert "ethernet1/1" in first.reason
    assert "zones" in first.reason and "must already exist" in first.reason


def test_interface_help_says_pfsense_means_the_description():
    for name in ("inside_interface", "outside_interface"):
        text = field_text(name)
        assert "pfSense and OPNsense" in text and "description" in text
        assert "ethernet1/1" in text


def test_site_file_doc_lists_every_renderer_slug():
    doc = (ROOT / "docs" / "site-file.md").read_text()
    section = doc.split("## Renderer slugs", 1)[1]
    listed = re.findall(r"^\| `([a-z0-9-]+)` \|", section, re.MULTILINE)
    assert listed == sorted(RENDERERS)


def test_make_run_derives_portal_url_from_host_and_port():
    def dry_run(*args: str, env: dict[str, str] | None = None) -> str:
        return subprocess.run(
            ["make", "-n", "run", *args],
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", "PYTHON": "python3", **(env or {})},
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    assert "PORTAL_URL=http://0.0.0.0:9000 " in dry_run("HOST=0.0.0.0", "PORT=9000")
    assert "PORTAL_URL=https://portal.example " in dry_run(
        "PORT=9000", env={"PORTAL_URL": "https://portal.example"}
    )


TEMPLATES = ROOT / "templates"


@pytest.mark.parametrize(
    ("template", "jargon"),
    [
        ("sites/profile_form.html", "re-derive"),
        ("sites/profile_list.html", "re-derive"),
        ("jobs/job_detail.html", "<dt>Attempts</dt>"),  # a first try is not news
    ],
)
def test_operator_pages_use_plain_words(template, jargon):
    assert jargon not in (TEMPLATES / template).read_text()
