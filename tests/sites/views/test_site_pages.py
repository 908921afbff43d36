"""The site pages: the form answers bad input with 422 and saves nothing; steps change in place."""

import io
import re

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import escape
from markdown_it import MarkdownIt
from pypdf import PdfReader

from portal.audit.models import AuditEvent
from sites.instructions.handover import numbered_steps
from sites.models import InstructionSet, Site, StepState
from sites.services.rollouts import mark_step

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Branch office",
    "vendor": "fortigate",
    "lan_network": "192.168.5.0/24",
    "lan_gateway": "192.168.5.1",
    "host_addressing": "static",
    "host_address": "192.168.5.10",
    "host_os": "windows",
    "public_address": "192.0.2.50",
    "monitoring_sources": "",
    "reverify": "weekly",
    "iface-TOTAL_FORMS": "2",
    "iface-INITIAL_FORMS": "0",
    "iface-MIN_NUM_FORMS": "2",
    "iface-MAX_NUM_FORMS": "6",
}


def admin_client(world) -> Client:
    client = Client()
    client.force_login(world.people["customer_admin"])
    return client


def snapshot():
    return (
        Site.objects.count(),
        InstructionSet.objects.count(),
        AuditEvent.objects.filter(action__startswith="site").count(),
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"lan_network": "192.168.5.0/33"}, "lan_network", "CIDR"),
        ({"host_address": "10.9.9.9"}, "host_address", "LAN"),
        ({"vendor": ""}, "vendor", "required"),
        ({"name": "Customer One HQ"}, "name", "already has a site"),
        (
            {
                "multi_homed": "on",
                "firewall_interface": "LAN",
                "iface-0-name": "LAN",
                "iface-0-index": "12",
                "iface-0-address": "192.168.5.10",
                "iface-0-network": "192.168.5.0/24",
                "iface-0-gateway": "10.0.0.1",
            },
            "iface-0-gateway",
            "network",
        ),
    ],
)
def test_bad_input_is_answered_with_422_and_saves_nothing(world, changes, field, message):
    client = admin_client(world)
    before = snapshot()
    response = client.post(f"/o/{world.customer.slug}/sites/new/", {**VALID, **changes})
    assert response.status_code == 422
    body = response.content.decode()
    assert f'id="id_{field}_errors"' in body or f"id_{field}" in body
    form, formset = response.context["form"], response.context["formset"]
    errors = {
        **form.errors,
        **{f"iface-{n}-{k}": v for n, f in enumerate(formset.forms) for k, v in f.errors.items()},
    }
    assert field in errors, errors
    assert message.lower() in str(errors[field]).lower()
    assert snapshot() == before


def test_a_valid_site_is_saved_and_its_page_shows_the_instructions(
    world, django_capture_on_commit_callbacks
):
    client = admin_client(world)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(f"/o/{world.customer.slug}/sites/new/", VALID)
    assert response.status_code == 302
    site = Site.objects.get(name="Branch office")
    assert response["Location"] == f"/o/{world.customer.slug}/sites/{site.pk}/"
    assert len(callbacks) == 1  # the regeneration task, queued after commit
    page = client.get(response["Location"])
    assert b"being prepared; they appear here by themselves" in page.content

    from sites.services.instructions import regenerate_site

    regenerate_site(site_id=site.pk)
    page = client.get(response["Location"]).content.decode()
    assert "config firewall policy" in page and "set nat enable" in page
    assert "New-NetFirewallRule" in page  # the Windows host's steps follow the firewall's


def test_the_edit_form_is_prefilled_and_saves_changes(world):
    site = world.sites[world.customer.slug]
    client = admin_client(world)
    form = client.get(f"/o/{world.customer.slug}/sites/{site.pk}/edit/").context["form"]
    assert form.initial["lan_network"] == "192.168.1.0/24"
    data = {
        **VALID,
        "name": site.name,
        "lan_network": "192.168.1.0/24",
        "lan_gateway": "192.168.1.1",
        "host_address": "192.168.1.20",
    }
    response = client.post(f"/o/{world.customer.slug}/sites/{site.pk}/edit/", data)
    assert response.status_code == 302
    site.refresh_from_db()
    assert site.description["host_address"] == "192.168.1.20"


def test_a_step_changes_in_place_with_htmx(world):
    site = world.sites[world.customer.slug]
    step = site.current_instruction_set.rollout.steps.order_by("position").first()
    response = admin_client(world).post(
        f"/o/{world.customer.slug}/sites/{site.pk}/steps/{step.pk}/",
        {"state": "done", "note": "done on the console"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert 'data-state="done"' in response.content.decode()
    assert "<html" not in response.content.decode()
    step.refresh_from_db()
    assert step.state == StepState.DONE and step.changed_by == world.people["customer_admin"]


def test_a_bad_step_state_is_refused_with_422(world):
    site = world.sites[world.customer.slug]
    step = site.current_instruction_set.rollout.steps.first()
    response = admin_client(world).post(
        f"/o/{world.customer.slug}/sites/{site.pk}/steps/{step.pk}/",
        {"state": "exploded"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "state:" in response.content.decode()
    step.refresh_from_db()
    assert step.state == StepState.PENDING


def test_instructions_download_as_markdown_and_text(world):
    """Ready to hand to a colleague (#13 point 9): one top-level heading, the site, organisation,
    version and date, and the page's numbering across the firewall's and the host's steps."""
    site = world.sites[world.customer.slug]
    current = site.current_instruction_set
    assert len(current.rendered) == 2  # the firewall's steps, then the Windows host's
    positions = list(current.rollout.steps.order_by("position").values_list("position", flat=True))
    client = admin_client(world)
    markdown = client.get(f"/o/{world.customer.slug}/sites/{site.pk}/instructions.md")
    assert markdown["Content-Type"].startswith("text/markdown")
    assert "attachment" in markdown["Content-Disposition"]
    body = markdown.content.decode()
    headings = [t.tag for t in MarkdownIt().parse(body) if t.type == "heading_open"]
    assert headings.count("h1") == 1 and headings[0] == "h1"  # (# in code blocks are comments)
    assert f"**Organisation:** {world.customer.name}" in body
    assert f"**Version:** {current.version}" in body
    assert f"**Prepared on:** {timezone.localdate(current.created_at).isoformat()}" in body
    assert [int(n) for n in re.findall(r"^### Step (\d+):", body, re.M)] == positions
    text = client.get(f"/o/{world.customer.slug}/sites/{site.pk}/instructions.txt").content
    lines = text.decode().splitlines()
    assert lines[0] == f"Firewall instructions for {site.name}"
    assert f"Organisation: {world.customer.name}" in lines
    assert f"Version: {current.version}" in lines
    assert f"Prepared on: {timezone.localdate(current.created_at).isoformat()}" in lines
    assert [int(n) for n in re.findall(r"^Step (\d+):", text.decode(), re.M)] == positions
    assert (
        client.get(f"/o/{world.customer.slug}/sites/{site.pk}/instructions.docx").status_code == 404
    )


def test_instructions_download_as_pdf_with_header_diagram_and_page_numbering(world):
    """The PDF (#13 point 9): the same header and numbering as the other downloads, the
    diagram, a page footer; text a customer typed is printed as text, never as markup."""
    site = world.sites[world.customer.slug]
    Site.objects.filter(pk=site.pk).update(name='Branch <b>"North"</b>')
    site.refresh_from_db()
    current = site.current_instruction_set
    positions = list(current.rollout.steps.order_by("position").values_list("position", flat=True))
    viewer = Client()
    viewer.force_login(world.people["customer_viewer"])
    response = viewer.get(f"/o/{world.customer.slug}/sites/{site.pk}/instructions.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].endswith(f'-v{current.version}.pdf"')
    assert response.content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert text.startswith('Firewall instructions for Branch <b>"North"</')  # may wrap
    assert 'Branch <b>"North"</b> · version 1' in text  # the footer of every page
    assert world.customer.name in text and f"Version{current.version}" in text.replace(" ", "")
    assert [int(n) for n in re.findall(r"^Step (\d+):", text, re.M)] == positions
    assert f"Page 1 of {len(reader.pages)}" in text
    assert "Internet" in text or "Datacenter" in text  # the diagram's boxes are text, not a picture


def test_the_pdf_renderer_fetches_nothing():
    from sites.views.handover_pdf import _no_fetching

    with pytest.raises(ValueError, match="fetches nothing"):
        _no_fetching("http://169.254.169.254/latest/meta-data/")


def test_the_site_page_query_count_does_not_grow_with_steps(world, django_assert_max_num_queries):
    site = world.sites[world.customer.slug]
    client = admin_client(world)
    client.get(f"/o/{world.customer.slug}/sites/{site.pk}/")  # warm the session
    with django_assert_max_num_queries(16):
        response = client.get(f"/o/{world.customer.slug}/sites/{site.pk}/")
    assert response.status_code == 200


def test_the_live_partial_carries_every_step_state_and_stops_when_done(world):
    site = world.sites[world.customer.slug]
    client = admin_client(world)
    url = f"/o/{world.customer.slug}/sites/{site.pk}/"
    live = client.get(url, headers={"HX-Request": "true"})
    assert live.status_code == 200 and "HX-Request" in live["Vary"]
    body = live.content.decode()
    steps = list(site.current_instruction_set.rollout.steps.all())
    # Each step's badge and the state beside its title (shown when the step is folded).
    assert body.count('hx-swap-oob="true"') == 2 * len(steps)
    assert "<html" not in body and 'id="rollout-summary"' in body
    for step in steps:
        mark_step(step=step, state=StepState.DONE)
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 286


def test_a_new_sites_page_asks_until_the_instructions_arrive_then_swaps_in_the_steps(world):
    """Issue #13 (4): no "Reload in a moment" dead end. The pending panel polls the page; the
    answer is the panel again (200) until the worker made the instructions, then the steps (286,
    which stops the polling)."""
    from sites.services.instructions import regenerate_site
    from sites.services.sites import create_site
    from tests.factories import site_description

    site = create_site(organisation=world.customer, data=site_description(name="New branch"))
    assert site.current_instruction_set is None  # the worker has not run yet
    client = admin_client(world)
    url = f"/o/{world.customer.slug}/sites/{site.pk}/"
    page = client.get(url).content.decode()
    assert 'id="instructions-pending"' in page and f'hx-get="{url}"' in page
    asking = {"HX-Request": "true", "HX-Trigger": "instructions-pending"}

    pending = client.get(url, headers=asking)
    assert pending.status_code == 200 and "HX-Request" in pending["Vary"]
    assert 'id="instructions-pending"' in pending.content.decode()
    assert "<html" not in pending.content.decode()

    regenerate_site(site_id=site.pk)
    ready = client.get(url, headers=asking)
    assert ready.status_code == 286
    body = ready.content.decode()
    assert "<html" not in body and 'id="instructions-pending"' not in body
    assert 'class="steps"' in body and 'id="rollout-summary"' in body and 'id="step-1"' in body


def test_done_steps_fold_and_the_next_pointer_leads_to_the_first_pending_step(world):
    """Issue #13 (5): a done step folds to its title, state and who/when; the summary (the live
    part too) points to the first pending step, which is open."""
    site = world.sites[world.customer.slug]
    steps = list(site.current_instruction_set.rollout.steps.order_by("position"))
    mark_step(step=steps[0], state=StepState.DONE, note="in the GUI")
    client = admin_client(world)
    url = f"/o/{world.customer.slug}/sites/{site.pk}/"
    page = client.get(url).content.decode()
    pointer = f'<a href="#step-{steps[1].position}">Next: step {steps[1].position}</a>'
    assert pointer in page
    first = page[page.index(f'id="step-{steps[0].position}"') :]
    first = first[: first.index("</li>")]
    assert first.index("<details") < first.index("<summary>") < first.index("Done")
    second = page[page.index(f'id="step-{steps[1].position}"') :]
    assert "<details" not in second[: second.index("</li>")]
    live = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert pointer in live


@pytest.mark.parametrize(
    ("direction", "purpose", "where", "not_where"),
    [
        ("outbound", "verify", "on the backup host", "another computer"),
        ("outbound", "restriction", "on another computer of the LAN", "on the backup host"),
        ("inbound", "verify", "on the backup host", "another computer"),
    ],
)
def test_each_probe_panel_and_its_snippets_say_where_they_run(
    world, direction, purpose, where, not_where
):
    """Issue #13 (6): the heading and every snippet of a probe say where it runs, the same way:
    the restriction proof on another LAN computer, the others on the backup host."""
    from sites.services.instructions import regenerate_site
    from sites.services.probes import start_probe_run
    from sites.services.sites import update_site
    from tests.factories import site_description

    site = world.sites[world.customer.slug]
    if direction == "inbound":
        site = update_site(
            site=site,
            data=site_description(
                name=site.name,
                public_address="192.0.2.1",
                monitoring_enabled=True,
                monitoring_sources=["198.51.100.7"],
            ),
        )
        regenerate_site(site_id=site.pk)
    run = start_probe_run(site=site, direction=direction, purpose=purpose)
    body = admin_client(world).get(f"/o/{world.customer.slug}/sites/{site.pk}/probes/{run.pk}/")
    html = body.content.decode()
    heading = html[html.index("<h2>", html.index('id="probe-commands"')) :]
    heading = heading[: heading.index("</h2>")]
    assert where in heading and not_where not in heading
    blocks = ["client-ps", "client-sh"] if direction == "outbound" else ["listen-ps"]
    for block in blocks:
        text = html[html.index(f'id="{block}"') :]
        text = text[: text.index("</pre>")]
        assert where in text and not_where not in text, block


def test_an_unchanged_live_partial_is_a_304_and_a_change_is_a_new_200(
    world, django_assert_max_num_queries
):
    """Issue #14 (10): the poll carries an ETag (what the partial shows); asked again with it, an
    unchanged partial is a 304 without a body, the tenancy checks run first, and a step change
    (or another language) answers the new partial."""
    site = world.sites[world.customer.slug]
    client = admin_client(world)
    url = f"/o/{world.customer.slug}/sites/{site.pk}/"
    poll = {"HX-Request": "true"}
    first = client.get(url, headers=poll)
    etag = first["ETag"]
    assert first.status_code == 200 and etag.startswith('"')
    assert "no-cache" in first["Cache-Control"] and "private" in first["Cache-Control"]
    # Session, person, grants, organisation (the last three cached with Redis), progress.
    with django_assert_max_num_queries(5):
        again = client.get(url, headers={**poll, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and "HX-Request" in again["Vary"]
    # The full page at the same address is never answered from the partial's tag.
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200
    # Another language renders other words: not the same tag.
    other = client.get(url, headers={**poll, "If-None-Match": etag, "Accept-Language": "de"})
    assert other.status_code in (200, 304)
    if other.status_code == 200:
        assert other["ETag"] != etag
    step = site.current_instruction_set.rollout.steps.order_by("position").first()
    mark_step(step=step, state=StepState.DONE)
    changed = client.get(url, headers={**poll, "If-None-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert 'data-state="done"' in changed.content.decode()
    # Someone who may not see the site gets its 404, tag or not.
    outsider = Client()
    outsider.force_login(world.people["reseller_admin"])
    other_site = world.sites[world.other_customer.slug]
    stranger = outsider.get(
        f"/o/{world.other_customer.slug}/sites/{other_site.pk}/",
        headers={**poll, "If-None-Match": etag},
    )
    assert stranger.status_code == 404


def test_customers_read_the_versions_without_the_renderers_codes(world):
    """#13 point 10: a customer's Versions table says who made each version in words; the profile
    revision and the renderers' codes ("fortigate v2") are for the provider's staff."""
    site = world.sites[world.customer.slug]
    url = f"/o/{world.customer.slug}/sites/{site.pk}/"
    renderers = [f"{r['slug']} v{r['version']}" for r in site.current_instruction_set.renderers]
    customer = admin_client(world).get(url).content.decode()
    versions = customer[customer.index("<h2>Versions</h2>") :]
    assert "Renderers" not in versions and "Profile revision" not in versions
    assert not any(code in versions for code in renderers)
    assert "<td>worker</td>" not in versions
    support = Client()
    support.force_login(world.people["support"])
    staff = support.get(url).content.decode()
    assert "Renderers" in staff and all(code in staff for code in renderers)


def test_each_steps_check_sits_in_that_step(world):
    """#13 point 5: the verification of a step is shown inside the step it checks, under its
    configuration, not gathered elsewhere on the page."""
    site = world.sites[world.customer.slug]
    page = admin_client(world).get(f"/o/{world.customer.slug}/sites/{site.pk}/").content.decode()
    checked = 0
    for _, steps in numbered_steps(site.current_instruction_set.rendered):
        for position, step in steps:
            item = page[page.index(f'id="step-{position}"') :]
            item = item[: item.index("</li>")]
            if not step.verify:
                assert 'class="verify"' not in item, position
                continue
            checked += 1
            check = item[item.index("<strong>Check:</strong>") :]
            assert escape(step.verify) in check, position
            if step.config:
                assert item.index(escape(step.config)) < item.index("<strong>Check:</strong>")
    assert checked
