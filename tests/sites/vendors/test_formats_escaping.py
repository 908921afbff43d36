"""The instruction downloads escape what customers typed: a Markdown viewer that renders HTML runs
nothing, a name cannot close a code block, a terminal gets no escape sequence (#14, point 7)."""

import pytest
from django.test import Client
from markdown_it import MarkdownIt

from portal.accounts.models import Role
from sites.services.instructions import regenerate_site
from sites.services.sites import create_site
from sites.vendors.base import PolicyWarning, Rendered, Step
from sites.vendors.formats import instructions_markdown, instructions_text
from tests.factories import site_description

XSS = "<img src=x onerror=alert(1)>"
TICKS = "lan```x`"


def html_of(markdown: str) -> str:
    """What a CommonMark viewer shows, raw HTML allowed (the dangerous case)."""
    return MarkdownIt("commonmark").render(markdown)


def step(**fields) -> Step:
    values = {
        "title": "Allow the backup",
        "gui_path": "Policy › IPv4",
        "config": "",
        "config_language": "text",
        "reason": "The backup needs it.",
        "verify": "",
    }
    return Step(**{**values, **fields})


def rendered(*steps: Step, warnings=()) -> Rendered:
    numbered = tuple(Step(**{**s.__dict__, "number": n}) for n, s in enumerate(steps, start=1))
    return Rendered(vendor="generic", renderer_version=1, steps=numbered, warnings=warnings)


def test_customer_text_in_markdown_renders_as_text_not_html():
    document = rendered(
        step(title=f"Allow {XSS} [x](javascript:alert(1))", gui_path=f"*{TICKS}*", reason=XSS),
        warnings=(PolicyWarning(code="w", message=f"Interface {XSS}\n# Heading", field="x"),),
    )
    page = html_of(instructions_markdown(document, title=XSS))
    assert "<img" not in page and "<a " not in page
    assert page.count("<h1>") == 1  # the newline in the warning did not start a heading
    assert "<h1>&lt;img src=x onerror=alert(1)&gt; (generic)</h1>" in page
    assert "<p><em>Where:</em> *lan```x`*</p>" in page  # shown as typed, no emphasis or code


def test_a_code_block_keeps_its_content_verbatim_and_cannot_be_closed_by_it():
    config = f"set interface {TICKS}\n```\n<script>alert(1)</script>\n````\nend"
    document = rendered(step(config=config, verify="show ```"), step(title="Second"))
    markdown = instructions_markdown(document)
    assert config in markdown  # verbatim
    page = html_of(markdown)
    assert "<script>" not in page
    assert page.count("<pre>") == 2 and page.count("<h2>") == 2  # one block each, both steps
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_plain_text_carries_no_control_characters_and_no_forged_lines():
    document = rendered(step(title="Name\x1b[2J\nStep 9 [change] forged", config="a\x1b[31m"))
    text = instructions_text(document)
    assert "\x1b" not in text
    assert not any(line.startswith("Step 9") for line in text.splitlines())


def test_ordinary_text_is_unchanged():
    document = rendered(step(title="Allow TCP 4401 to 203.0.113.0/24 (backup)", config="a\n"))
    markdown = instructions_markdown(document, title="Main office")
    assert "# Main office (generic)" in markdown
    assert "## Step 1: Allow TCP 4401 to 203.0.113.0/24 (backup)" in markdown
    assert "```text\na\n```" in markdown


@pytest.mark.django_db
def test_the_downloads_of_a_site_named_like_html_escape_it(world):
    interfaces = [
        {
            "name": TICKS,
            "index": 3,
            "address": "192.168.1.10",
            "network": "192.168.1.0/24",
            "gateway": "192.168.1.1",
        },
        {
            "name": "`other`",
            "index": 4,
            "address": "10.1.0.10",
            "network": "10.1.0.0/24",
            "gateway": None,
        },
    ]
    site = create_site(
        organisation=world.customer,
        data=site_description(
            name=XSS,
            vendor="generic",
            multi_homed=True,
            firewall_interface=TICKS,
            host_interfaces=interfaces,
        ),
        reverify="weekly",
    )
    instruction_set, _ = regenerate_site(site_id=site.pk)
    client = Client()
    client.force_login(world.people[Role.CUSTOMER_ADMIN])
    base = f"/o/{world.customer.slug}/sites/{site.pk}/instructions"
    markdown = client.get(f"{base}.md")
    assert markdown.status_code == 200
    body = markdown.content.decode()
    assert body.startswith("# Firewall instructions for &lt;img src=x onerror=alert(1)&gt;\n")
    page = html_of(body)
    assert "<img" not in page
    steps_with_code = sum(
        bool(s.config) + bool(s.verify)
        for document in instruction_set.rendered
        for s in document.steps
    )
    assert page.count("<pre>") == steps_with_code
    assert "\n````" in body and TICKS in page  # the interface name, in a longer fence
    text = client.get(f"{base}.txt")
    assert text.status_code == 200 and text["X-Content-Type-Options"] == "nosniff"
