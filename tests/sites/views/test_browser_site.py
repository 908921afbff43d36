"""A customer's journey in real Chromium: describe a site (fixing one bad field), follow its steps,
then prove the backup connection with the real probe client against the real probe responder and
watch the verification step turn done on the open rollout page, without a reload (issue #6).

The responder is `manage.py probe_responder` as a process on free loopback ports, writing into the
live server's test database (tests/fixtures/probe_responder.py); the client is the obm_probe.py the
page offers for download, run as the page says.
"""

import io
import re
import shlex
import subprocess
import sys

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from sites.models import ProbeRun, ProbeRunState, Site, StepState
from sites.services.instructions import regenerate_site
from sites.services.rollouts import mark_step
from tests.fixtures.browser import screenshot, sign_in

VERIFY_STEP = "Prove the backup connection gets out"


def describe_site_with_one_bad_field(page, base_url: str) -> Site:
    """Creating the site with the wizard: the LAN network is flagged as it is typed, the customer
    fixes it, confirms on the review, and lands on the new site's rollout. Returns the site (its
    instructions made, as the worker would). tests/sites/views/test_browser_wizard.py covers the
    wizard's pages in detail."""
    page.goto(f"{base_url}/o/acme-dental/sites/")
    page.get_by_role("link", name="New site").click()
    page.get_by_label("Name", exact=True).fill("Dental lab")
    page.get_by_label("Firewall", exact=True).select_option("fortigate")
    page.get_by_label("Public address").fill("192.0.2.77")
    page.get_by_role("button", name="Continue →").click()

    page.get_by_label("LAN network").fill("192.168.50.0/33")  # the bad field
    expect(page.locator("#id_lan_network_errors")).to_contain_text("LAN network")
    page.get_by_label("Firewall's LAN address").fill("192.168.50.1")
    page.get_by_label("Backup host address").fill("192.168.50.10")
    page.get_by_role("button", name="Continue →").click()  # refused: the step comes back (422)
    expect(page.locator("#id_lan_network_errors")).to_contain_text("LAN network")
    assert not Site.objects.filter(name="Dental lab").exists()

    page.get_by_label("LAN network").fill("192.168.50.0/24")
    expect(page.locator("#id_lan_network_errors")).to_be_empty()
    page.get_by_role("button", name="Continue →").click()
    page.get_by_role("button", name="Review the rules →").click()
    expect(page.locator("table.rules-table").first).to_contain_text("TCP 4401")
    page.get_by_role("button", name="Confirm and create").click()
    expect(page.get_by_role("heading", name="Dental lab")).to_be_visible()
    site = Site.objects.get(name="Dental lab")
    regenerate_site(site_id=site.pk)  # what the worker does after the save
    page.reload()
    return site


def run_as_shown(command: str, script_dir) -> subprocess.CompletedProcess:
    """Run the page's command for the downloaded script, as the customer would on the backup host
    (``python3`` is this test's interpreter)."""
    words = shlex.split(command)
    assert words[:2] == ["python3", "obm_probe.py"], command
    return subprocess.run(
        [sys.executable, *words[1:]], cwd=script_dir, capture_output=True, text=True, timeout=60
    )


@pytest.mark.browser
def test_customer_describes_a_site_follows_it_and_proves_it_with_the_probe(
    live_server,
    page,
    probe_responder,
    tmp_path,
):
    call_command("seed_demo", stdout=io.StringIO())
    sign_in(page, live_server.url, "acme-admin")

    # --- Creating the site ------------------------------------------------------------------
    site = describe_site_with_one_bad_field(page, live_server.url)

    # --- Following the steps ----------------------------------------------------------------
    first_step = page.locator("li.step").first
    expect(first_step.locator("h3")).to_have_text("Create the address objects and groups")
    expect(page.locator("pre").first).to_contain_text("config firewall address")
    first_step.get_by_placeholder("Note (optional)").fill("Done in the GUI")
    first_step.get_by_role("button", name="Done").click()
    expect(first_step.locator("[data-state]")).to_have_attribute("data-state", "done")
    # The summary follows without a reload.
    expect(page.locator("#rollout-summary")).to_contain_text("1 of 5 steps finished")
    # The swapped summary is said through the page's one live region, which stays (portal.js).
    announcer = page.get_by_role("status").and_(page.locator("#live-announcer"))
    expect(announcer).to_have_text("Rollout: 1 of 5 steps finished")
    site.refresh_from_db()
    rollout = site.current_instruction_set.rollout
    step = rollout.steps.get(position=1)
    assert step.state == "done" and step.note == "Done in the GUI"

    # A colleague completes step 2 elsewhere: the open page shows it without a reload.
    second = rollout.steps.get(position=2)
    mark_step(step=second, state="done", note="done by a colleague")
    expect(page.locator(f"#step-badge-{second.pk} [data-state]")).to_have_attribute(
        "data-state", "done", timeout=6_000
    )
    expect(page.locator("#rollout-summary")).to_contain_text("2 of 5 steps finished")
    expect(announcer).to_have_text("Rollout: 2 of 5 steps finished")
    # Folded, step 2 shows its state beside its title: that follows too.
    expect(page.locator(f"#step-heading-state-{second.pk}")).to_contain_text("Done")
    page.set_viewport_size({"width": 1280, "height": 1400})
    # The README's picture: from the rollout's summary down (the click left the page scrolled).
    page.locator("#rollout-summary").evaluate("(summary) => summary.scrollIntoView()")
    screenshot(page, "site-rollout", full_page=False)

    # --- Proving the backup connection with the probe -----------------------------------------
    verify = rollout.steps.get(title=VERIFY_STEP)
    assert verify.state == StepState.PENDING
    verify_item = page.locator("li.step").filter(has=page.get_by_role("heading", name=VERIFY_STEP))
    expect(verify_item.locator("[data-state]")).to_have_attribute("data-state", "pending")
    page.evaluate("window.__sameDocument = true")  # gone if anything below reloads the page

    panel = page.locator("section.probes")
    panel.get_by_role("button", name="Check the backup connection").click()
    command_block = panel.locator("#client-python")
    expect(command_block).to_contain_text("obm_probe.py check")
    run = ProbeRun.objects.get(site=site)
    assert run.state == ProbeRunState.WAITING
    command = command_block.inner_text().strip()
    # Server, the port the responder really answers on (the lab's map of TCP 4401) and the token.
    tcp_port = probe_responder.ports["tcp/4401"]
    assert shlex.split(command) == [
        "python3",
        "obm_probe.py",
        "check",
        "--server",
        "127.0.0.1",
        "--token",
        run.token,
        "--tcp",
        str(tcp_port),
    ], command
    for snippet in ("#client-ps", "#client-sh"):
        expect(panel.locator(snippet)).to_contain_text(run.token)
    expect(panel.locator("#probe-status [data-state]")).to_have_attribute("data-state", "waiting")

    with page.expect_download() as download_info:
        panel.get_by_role("link", name="Download obm_probe.py").click()
    download = download_info.value
    assert download.suggested_filename == "obm_probe.py"
    download.save_as(tmp_path / "obm_probe.py")

    result = run_as_shown(command, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(rf"TCP {tcp_port} +OK", result.stdout), result.stdout

    # The responder records it, the run settles and the verification step completes: the open
    # page shows all of it by its own polling.
    expect(verify_item.locator("[data-state]")).to_have_attribute(
        "data-state", "done", timeout=10_000
    )
    expect(verify_item.locator(".note")).to_contain_text(f"Proven by probe run #{run.pk}")
    expect(panel.locator("#probe-status [data-state]")).to_have_attribute(
        "data-state", "proven", timeout=10_000
    )
    expect(panel.locator("#probe-status table")).to_contain_text("TCP 4401")
    expect(panel.locator("#probe-status table")).to_contain_text("127.0.0.1:")
    # The site declares 192.0.2.77; on loopback the probe arrives from 127.0.0.1, which it says.
    expect(panel.locator("#probe-status")).to_contain_text(
        "not from the site's public address 192.0.2.77"
    )
    expect(page.locator("#rollout-summary")).to_contain_text("3 of 5 steps finished")
    expect(panel.locator("#client-python")).to_have_count(0)  # the spent token's commands go
    # The page's list of recent runs shows the run and its outcome too.
    expect(page.locator(f"#probe-runs tr:has(a:text-is('{run.pk}'))")).to_contain_text("Proven")
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"

    run.refresh_from_db()
    assert run.state == ProbeRunState.PROVEN
    observation = run.observations.get(outcome="ok")
    assert (observation.protocol, observation.port, observation.observed_ip) == (
        "tcp",
        4401,
        "127.0.0.1",
    )
    verify.refresh_from_db()
    assert verify.state == StepState.DONE

    screenshot(page, "site-probe-proven")


@pytest.mark.browser
def test_a_new_sites_steps_appear_when_the_worker_has_made_them(
    live_server, page, celery_worker_process, monkeypatch
):
    """Issue #13 (4): the page opened right after the site is saved says the instructions are
    being prepared, then shows the steps the real worker made, without a reload."""
    from sites.services import queue
    from sites.services.sites import create_site
    from tests.factories import site_description
    from tests.fixtures.worker import wait_for

    call_command("seed_demo", stdout=io.StringIO())
    held = []  # the worker gets the site only once the page shows it pending
    monkeypatch.setattr(queue, "enqueue_after_commit", lambda name, *args: held.append(args))
    organisation = Site.objects.get(name="Main office").organisation
    site = create_site(organisation=organisation, data=site_description(name="New branch"))
    assert held and site.current_instruction_set is None
    sign_in(page, live_server.url, "acme-admin")
    page.goto(f"{live_server.url}/o/{organisation.slug}/sites/{site.pk}/")
    expect(page.locator("#instructions-pending")).to_contain_text("being prepared")
    page.evaluate("window.__sameDocument = true")
    screenshot(page, "site-page-pending", full_page=False)
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "site-page-pending-390", full_page=False)

    queue.enqueue(queue.REGENERATE_SITE, site.pk)
    wait_for(
        lambda: Site.objects.get(pk=site.pk).current_instruction_set_id,
        timeout=120,
        process=celery_worker_process,
    )
    expect(page.locator("li.step").first).to_be_visible(timeout=10_000)
    expect(page.locator("#instructions-pending")).to_have_count(0)
    expect(page.locator("#rollout-summary")).to_contain_text("Next: step 1")
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"


@pytest.mark.browser
def test_the_demo_site_page_is_short_and_points_to_the_next_step(live_server, page):
    """Issue #13 (5): done steps fold, the probe scripts fold behind the one-line command, and a
    "Next: step N" pointer leads to the first pending step. The demo's Main office was ~10,800 px
    tall at 1280 px with a probe open."""
    call_command("seed_demo", stdout=io.StringIO())
    site = Site.objects.get(name="Main office")
    steps = site.current_instruction_set.rollout.steps.order_by("position")
    first_pending = steps.filter(state=StepState.PENDING).first()
    if first_pending.position == 1:  # one done step to fold, the pointer then on step 2
        mark_step(step=first_pending, state=StepState.DONE, note="done in the demo")
        first_pending = steps.filter(state=StepState.PENDING).first()
    sign_in(page, live_server.url, "acme-admin")
    page.goto(f"{live_server.url}/o/{site.organisation.slug}/sites/{site.pk}/")
    panel = page.locator("section.probes")
    panel.get_by_role("button", name="Check the backup connection").click()
    expect(panel.locator("#client-python")).to_contain_text("obm_probe.py check")
    height = page.evaluate("document.documentElement.scrollHeight")
    print(f"site page height at 1280 px: {height}")
    assert height < 5_000, height

    pointer = page.locator("#rollout-summary").get_by_role("link", name="Next: step")
    expect(pointer).to_have_text(f"Next: step {first_pending.position}")
    pointer.click()
    expect(page).to_have_url(re.compile(rf"#step-{first_pending.position}$"))
    target = page.locator(f"#step-{first_pending.position}")
    expect(target.locator("h3")).to_be_visible()
    expect(target.locator("details")).to_have_count(0)  # the next step is open
    done = page.locator("li.step.done details").first  # a done step is folded, and opens
    expect(done.locator(".step-state")).to_be_hidden()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "site-page")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "site-page-390")
    done.locator("summary").click()
    expect(done.locator(".step-state")).to_be_visible()
