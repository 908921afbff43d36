"""The "Check my current configuration" pages: the form (422 naming the field, nothing written),
the check followed live (htmx polling until 286), the verdicts with their lines in context, the
steps already in place on the rollout and marking them, the probe notes, and who may do what."""

from __future__ import annotations

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from sites.models import AnalysisState, ConfigAnalysis, StepState
from sites.services import analysis as service
from tests.factories import ProbeObservationFactory, ProbeRunFactory
from tests.sites.services.test_analysis import PARTIAL, WIDE_OPEN, iptables_site

pytestmark = pytest.mark.django_db


def client_as(world, role: str) -> Client:
    client = Client()
    client.force_login(world.people[role])
    return client


def url(site, suffix: str = "") -> str:
    return f"/o/{site.organisation.slug}/sites/{site.pk}/analyses/{suffix}"


def test_the_form_preselects_the_sites_vendor_and_offers_only_those_read(world):
    site = world.sites[world.customer.slug]  # a FortiGate
    page = client_as(world, "customer_admin").get(url(site)).content.decode()
    assert re.search(r'<option value="fortigate" selected>', page)
    assert 'value="sonicwall"' not in page and 'value="iptables"' in page
    assert 'enctype="multipart/form-data"' in page and "[redacted]" in page


def test_a_viewer_sees_the_checks_but_no_form_and_may_not_post(world):
    site = world.sites[world.customer.slug]
    viewer = client_as(world, "customer_viewer")
    page = viewer.get(url(site)).content.decode()
    assert "Check the configuration</button>" not in page and "Only an admin" in page
    response = viewer.post(url(site, "new/"), {"vendor": "iptables", "config": PARTIAL})
    assert response.status_code == 403 and not ConfigAnalysis.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"vendor": "iptables", "config": ""}, "config", "Paste the configuration"),
        ({"vendor": "sonicwall", "config": PARTIAL}, "vendor", "Select a valid choice"),
        (
            {"vendor": "iptables", "config": PARTIAL, "upload": b"*filter\nCOMMIT\n"},
            "config",
            "not both",
        ),
        ({"vendor": "iptables", "upload": b"\x00\x01\x02"}, "config", "binary"),
        ({"vendor": "iptables", "upload": b"\xff\xfe\xfd"}, "config", "not UTF-8"),
        ({"vendor": "iptables", "upload": b"x" * 5_000_001}, "upload", "5 MB"),
        ({"vendor": "iptables", "config": "x" * 5_000_001}, "config", "5 MB"),
    ],
    ids=["empty", "vendor", "both", "binary", "not-utf8", "big-file", "big-paste"],
)
def test_refused_input_answers_422_naming_the_field_and_writes_nothing(world, data, field, message):
    site = world.sites[world.customer.slug]
    if "upload" in data:
        data = {**data, "upload": SimpleUploadedFile("running-config.txt", data["upload"])}
    response = client_as(world, "customer_admin").post(url(site, "new/"), data)
    assert response.status_code == 422
    page = response.content.decode()
    errors = re.search(rf'id="id_{field}_errors">(.*?)</ul>', page, re.S)
    assert errors and message in errors.group(1), page[:200]
    assert not ConfigAnalysis.objects.exists()


def test_a_check_is_followed_live_then_shows_each_flow_with_its_lines(world):
    site = iptables_site(world.customer, monitoring=True)
    admin = client_as(world, "customer_admin")
    upload = SimpleUploadedFile("rules.v4", PARTIAL.encode())
    response = admin.post(url(site, "new/"), {"vendor": "iptables", "upload": upload})
    analysis = ConfigAnalysis.objects.get()
    assert response.status_code == 302 and response["Location"] == url(site, f"{analysis.pk}/")
    assert (
        analysis.source_name == "rules.v4" and analysis.created_by == world.people["customer_admin"]
    )

    waiting = admin.get(response["Location"], headers={"HX-Request": "true"})
    assert waiting.status_code == 200 and b"Queued: waiting for a worker" in waiting.content
    assert b'hx-trigger="every 1s"' in waiting.content

    service.run_analysis(analysis_id=analysis.pk)
    done = admin.get(response["Location"], headers={"HX-Request": "true"})
    assert done.status_code == 286  # polling stops
    page = done.content.decode()
    assert 'hx-trigger="every 1s"' not in page
    rows = [
        (html.unescape(flow), verdict)
        for flow, verdict in re.findall(r'data-flow="([^"]+)" data-verdict="(\w+)"', page)
    ]
    assert rows[:2] == [
        ("tcp:192.168.1.10->203.0.113.1:4401", "allowed"),
        ("tcp:192.168.1.254->203.0.113.1:4401", "blocked"),
    ]
    assert {v for _, v in rows[2:]} == {"blocked"}  # nothing forwarded inbound yet
    assert len(rows) == 6
    # The deciding lines in context, numbered, the cited ones highlighted with their effect.
    assert re.search(r'config-line cited"><span class="line-number">7</span>', page)
    assert "accepts the new connection" in page and "masquerades the source as 192.0.2.1" in page
    assert re.search(r'config-line"><span class="line-number">5</span>', page)  # context
    assert "Still to do" in page and "source translated to <code>192.0.2.1</code>" in page

    full = admin.get(response["Location"])
    assert full.status_code == 200 and b"Flow by flow" in full.content


def test_a_failed_check_says_why(world):
    site = world.sites[world.customer.slug]
    admin = client_as(world, "customer_admin")
    admin.post(url(site, "new/"), {"vendor": "pfsense", "config": "<pfsense><rule>"})
    analysis = ConfigAnalysis.objects.get()
    service.run_analysis(analysis_id=analysis.pk)
    page = admin.get(url(site, f"{analysis.pk}/")).content.decode()
    assert "The check failed" in page and "well-formed XML" in page


def test_the_rollout_shows_steps_in_place_with_evidence_and_marks_them_on_request(world):
    site = iptables_site(world.customer)
    analysis = service.run_analysis(
        analysis_id=service.request_analysis(site=site, vendor="iptables", config=PARTIAL).pk
    )
    evidence = analysis.details["steps_in_place"][0]
    step = site.current_instruction_set.rollout.steps.get(
        vendor="iptables", number=evidence["number"]
    )
    site_url = f"/o/{site.organisation.slug}/sites/{site.pk}/"
    admin = client_as(world, "customer_admin")
    page = admin.get(site_url).content.decode()
    assert "already in place (line " in page and "Mark done: already in place" in page
    assert f"configuration check #{analysis.pk}" in page
    step.refresh_from_db()
    assert step.state == StepState.PENDING  # shown, not marked

    viewer_page = client_as(world, "customer_viewer").get(site_url).content.decode()
    assert "already in place (line " in viewer_page
    assert "Mark done: already in place" not in viewer_page

    mark = url(site, f"{analysis.pk}/steps/{step.pk}/")
    assert client_as(world, "customer_viewer").post(mark).status_code == 403
    response = admin.post(mark)
    assert response.status_code == 302 and response["Location"].endswith(f"#step-{step.position}")
    step.refresh_from_db()
    assert step.state == StepState.DONE and "per configuration check" in step.note


def test_a_check_of_another_vendor_is_not_matched_to_the_steps(world):
    site = iptables_site(world.customer)
    config = "table ip filter {\n  chain forward { type filter hook forward priority 0; }\n}\n"
    analysis = service.request_analysis(site=site, vendor="nftables", config=config)
    service.run_analysis(analysis_id=analysis.pk)
    admin = client_as(world, "customer_admin")
    page = admin.get(f"/o/{site.organisation.slug}/sites/{site.pk}/").content.decode()
    assert "already in place (line" not in page
    detail = admin.get(url(site, f"{analysis.pk}/")).content.decode()
    assert "instructions are for another firewall" in detail


def test_a_broader_rule_is_shown_as_a_warning(world):
    site = iptables_site(world.customer)
    analysis = service.request_analysis(site=site, vendor="iptables", config=WIDE_OPEN)
    service.run_analysis(analysis_id=analysis.pk)
    page = client_as(world, "customer_admin").get(url(site, f"{analysis.pk}/")).content.decode()
    assert "Already open wider than the guide wants: line 7" in page
    assert "also lets TCP 4402 through" in page


def test_probe_and_configuration_together(world):
    """Allowed by the configuration but the probe failed: what that usually means; the probe
    seen from another address than the translation: that too."""
    site = iptables_site(world.customer)
    analysis = service.request_analysis(site=site, vendor="iptables", config=PARTIAL)
    service.run_analysis(analysis_id=analysis.pk)
    run = ProbeRunFactory(site=site, state="failed")
    ProbeObservationFactory(run=run, observed_ip="100.64.12.34")
    admin = client_as(world, "customer_admin")
    for page_url in (f"/o/{site.organisation.slug}/sites/{site.pk}/", url(site, f"{analysis.pk}/")):
        page = admin.get(page_url).content.decode()
        assert "another firewall or router in front of this one" in page
        assert (
            "arrived from 100.64.12.34" in page
            and "translates the backup host to 192.0.2.1" in page
        )


def test_no_probe_note_when_the_probe_agrees(world):
    site = iptables_site(world.customer)
    analysis = service.request_analysis(site=site, vendor="iptables", config=PARTIAL)
    service.run_analysis(analysis_id=analysis.pk)
    run = ProbeRunFactory(site=site, state="proven")
    ProbeObservationFactory(run=run, observed_ip="192.0.2.1")
    page = client_as(world, "customer_admin").get(url(site, f"{analysis.pk}/")).content.decode()
    assert "Probe and configuration disagree" not in page


def test_the_pages_query_counts_do_not_grow_with_flows(world, django_assert_max_num_queries):
    site = iptables_site(world.customer, monitoring=True)
    analysis = service.request_analysis(site=site, vendor="iptables", config=WIDE_OPEN)
    service.run_analysis(analysis_id=analysis.pk)
    admin = client_as(world, "customer_admin")
    admin.get(url(site))  # warm the session
    with django_assert_max_num_queries(10):
        assert admin.get(url(site, f"{analysis.pk}/")).status_code == 200
    with django_assert_max_num_queries(10):
        assert admin.get(url(site)).status_code == 200
    assert ConfigAnalysis.objects.get().state == AnalysisState.DONE


def test_monitoring_forwarded_by_the_configuration_but_the_inbound_probe_failed(world):
    from tests.sites.views.test_browser_analysis import EXPORT

    site = iptables_site(world.customer, monitoring=True)
    queued = service.request_analysis(site=site, vendor="iptables", config=EXPORT)
    analysis = service.run_analysis(analysis_id=queued.pk)
    assert [f["verdict"] for f in analysis.result["flows"]][2:5] == ["allowed"] * 3
    ProbeRunFactory(site=site, direction="inbound", state="failed")
    page = client_as(world, "customer_admin").get(url(site, f"{analysis.pk}/")).content.decode()
    assert "carrier-grade NAT" in page and "public address 192.0.2.1 is not this firewall" in page
    assert "did not get through. When the firewall" not in page  # no outbound run: no note
