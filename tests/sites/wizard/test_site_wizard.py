"""The site wizard: each step validates its own answers (422, nothing saved), the live checks answer
one question at a time, the review shows the derived rules, and only the confirmation creates the
site, after validating every answer again."""

import re

import pytest
from django.test import Client

from portal.audit.models import AuditEvent
from sites.models import InstructionSet, Site
from sites.vendors import vendor_choices, vendor_display_name
from sites.wizard import steps

pytestmark = pytest.mark.django_db

MANAGEMENT = {
    "iface-TOTAL_FORMS": "2",
    "iface-INITIAL_FORMS": "0",
    "iface-MIN_NUM_FORMS": "2",
    "iface-MAX_NUM_FORMS": "6",
}
FIREWALL = {
    "name": "Branch office",
    "vendor": "fortigate",
    "firmware": "7.2.8",
    "inside_interface": "port2",
    "outside_interface": "wan1",
    "public_address": "192.0.2.50",
}
NETWORK = {
    "lan_network": "192.168.5.0/24",
    "lan_gateway": "192.168.5.1",
    "host_addressing": "static",
    "host_address": "192.168.5.10",
    "host_range_start": "",
    "host_range_end": "",
    "dhcp_reservation_planned": "False",
    "host_os": "windows",
}
MONITORING = {
    "monitoring_enabled": "on",
    "monitoring_sources": "198.51.100.7\n198.51.100.0/28",
    "multi_homed": "",
    "firewall_interface": "",
    "reverify": "weekly",
}
ALL = {**MANAGEMENT, **FIREWALL, **NETWORK, **MONITORING}
MULTI_HOMED = {
    "multi_homed": "on",
    "firewall_interface": "LAN",
    "iface-0-name": "LAN",
    "iface-0-index": "12",
    "iface-0-address": "192.168.5.10",
    "iface-0-network": "192.168.5.0/24",
    "iface-0-gateway": "192.168.5.1",
    "iface-1-name": "Storage",
    "iface-1-index": "14",
    "iface-1-address": "10.20.0.5",
    "iface-1-network": "10.20.0.0/24",
    "iface-1-gateway": "10.20.0.1",
}


def admin_client(world, role="customer_admin") -> Client:
    client = Client()
    client.force_login(world.people[role])
    return client


def urls(world, organisation=None):
    base = f"/o/{(organisation or world.customer).slug}/sites/new/"
    return base, f"{base}check/", f"{base}preview/"


def step(data: dict, here: str, go: str = "next") -> dict:
    return {**data, "wizard_step": here, "go": go}


def snapshot():
    return (
        Site.objects.count(),
        InstructionSet.objects.count(),
        AuditEvent.objects.filter(action__startswith="site").count(),
    )


def shown_step(response) -> str:
    return re.search(r'name="wizard_step" value="([a-z]+)"', response.content.decode()).group(1)


def slot(response, key: str) -> str:
    """The content of one question's error area on a page."""
    body = response.content.decode()
    match = re.search(
        rf'<div class="field-errors" id="{steps.slot_dom_id(key)}"[^>]*>(.*?)</div>',
        body,
        re.DOTALL,
    )
    assert match, f"no error area for {key}"
    return match.group(1)


def test_the_wizard_asks_every_question_of_the_one_page_form_in_its_words():
    from sites.forms import SiteForm
    from sites.site_fields import site_field

    asked = {name for step in steps.STEPS for name in step.fields} - {steps.INTERFACES}
    assert asked == set(SiteForm.base_fields)
    for name in asked:
        assert SiteForm.base_fields[name].label == site_field(name).label


# --- the steps --------------------------------------------------------------------------------


def test_the_first_step_explains_every_question_and_checks_it_live(world):
    response = admin_client(world).get(urls(world)[0])
    assert response.status_code == 200
    body = response.content.decode()
    assert shown_step(response) == "firewall"
    for question in steps.STEPS[0].questions:
        assert f'id="why_{question.name}"' in body
        assert f'hx-post="/o/{world.customer.slug}/sites/new/check/?field={question.name}"' in body
    assert "This will depend on the type of firewall you are using." in body  # the guide's words
    assert 'hx-trigger="input changed delay:400ms, change"' in body
    # Later steps' answers travel hidden, with their defaults.
    assert re.search(r'<input type="hidden" name="host_addressing" value="static"', body)
    assert 'name="iface-TOTAL_FORMS"' in body


@pytest.mark.parametrize(
    ("here", "changes", "key", "message"),
    [
        ("firewall", {"name": ""}, "name", "required"),
        ("firewall", {"name": "Customer One HQ"}, "name", "already has a site"),
        ("firewall", {"vendor": "no-such-firewall"}, "vendor", "valid choice"),
        ("firewall", {"public_address": "300.1.1.1"}, "public_address", "not an IP address"),
        ("firewall", {"public_address": "192.168.5.20"}, "public_address", "inside the LAN"),
        ("network", {"lan_network": "192.168.5.0/33"}, "lan_network", "CIDR"),
        ("network", {"lan_network": "192.168.5.7/24"}, "lan_network", "host bits"),
        ("network", {"host_address": "10.9.9.9"}, "host_address", "not inside the LAN"),
        ("network", {"lan_gateway": "192.168.6.1"}, "lan_gateway", "not inside the LAN"),
        (
            "network",
            {
                "host_addressing": "range",
                "host_range_start": "192.168.5.50",
                "host_range_end": "192.168.5.40",
            },
            "host_range_end",
            "before it starts",
        ),
        ("network", {"host_os": "plan9"}, "host_os", "valid choice"),
        (
            "monitoring",
            {"monitoring_sources": "198.51.100.7\nthe office"},
            "monitoring_sources",
            "not a network",
        ),
        ("monitoring", {"reverify": "hourly"}, "reverify", "valid choice"),
        (
            "monitoring",
            {**MULTI_HOMED, "firewall_interface": "Wi-Fi"},
            "firewall_interface",
            "No host interface",
        ),
        (
            "monitoring",
            {**MULTI_HOMED, "iface-0-gateway": "10.0.0.1"},
            "host_interfaces.0.gateway",
            "not inside",
        ),
        (
            "monitoring",
            {**MULTI_HOMED, "iface-1-name": "LAN"},
            "host_interfaces.1.name",
            "repeated",
        ),
    ],
)
def test_each_step_answers_its_own_bad_input_with_422_and_saves_nothing(
    world, here, changes, key, message
):
    before = snapshot()
    response = admin_client(world).post(urls(world)[0], step({**ALL, **changes}, here))
    assert response.status_code == 422
    assert shown_step(response) == here
    errors = slot(response, key)
    assert message.lower() in errors.lower()
    assert f"{steps.slot_label(key)}:" in errors.replace("&#x27;", "'")  # the error names its field
    assert "nothing was saved" in response.content.decode()
    assert snapshot() == before


def test_a_step_shows_only_its_own_errors(world):
    """Step 1 is fine on its own: the network questions, still blank, do not stop it."""
    response = admin_client(world).post(
        urls(world)[0], step({**MANAGEMENT, **FIREWALL}, "firewall")
    )
    assert response.status_code == 200
    assert shown_step(response) == "network"
    assert slot(response, "lan_network") == ""  # required, but not asked yet
    # What was typed on step 1 travels on, hidden.
    assert '<input type="hidden" name="name" value="Branch office"' in response.content.decode()


def test_an_answer_that_makes_an_earlier_step_wrong_sends_the_customer_back_there(world):
    """Remote monitoring needs a fixed host address; with DHCP and none, step 2 must change."""
    data = {**ALL, "host_addressing": "dhcp", "host_address": ""}
    response = admin_client(world).post(urls(world)[0], step(data, "monitoring"))
    assert response.status_code == 422
    assert shown_step(response) == "network"
    assert "Remote monitoring forwards ports to one fixed address" in slot(response, "host_address")


def test_back_and_change_never_validate_or_lose_answers(world):
    client = admin_client(world)
    data = {**ALL, "lan_network": "not yet"}
    response = client.post(urls(world)[0], step(data, "network", go="back"))
    assert response.status_code == 200
    assert shown_step(response) == "firewall"
    body = response.content.decode()
    assert '<input type="hidden" name="lan_network" value="not yet"' in body
    assert 'value="Branch office"' in body
    # "Change" from the review goes to that step and offers the way back to the review.
    response = client.post(urls(world)[0], step(ALL, "review", go="network"))
    assert response.status_code == 200 and shown_step(response) == "network"
    assert 'name="from_review"' in response.content.decode()
    assert "Back to the review" in response.content.decode()


def test_a_tampered_earlier_step_is_caught_when_moving_on(world):
    """Step 1 was fine when it was left; its hidden answers are checked again on every move."""
    data = {**ALL, "vendor": "evil<script>"}
    response = admin_client(world).post(urls(world)[0], step(data, "network"))
    assert response.status_code == 422
    assert shown_step(response) == "firewall"
    assert "valid choice" in slot(response, "vendor")
    assert "evil<script>" not in response.content.decode()  # shown back escaped


def test_the_host_can_get_another_network_card(world):
    response = admin_client(world).post(
        urls(world)[0], step({**ALL, **MULTI_HOMED}, "monitoring", go="add-interface")
    )
    assert response.status_code == 200 and shown_step(response) == "monitoring"
    body = response.content.decode()
    assert 'name="iface-2-name"' in body and 'value="Storage"' in body
    assert 'name="iface-TOTAL_FORMS" value="3"' in body


def test_junk_navigation_never_fails(world):
    client = admin_client(world)
    base = urls(world)[0]
    for data in (
        {"wizard_step": "nowhere", "go": "somewhere"},
        {"wizard_step": "review", "go": "confirm"},
        {**ALL, "wizard_step": "monitoring", "iface-TOTAL_FORMS": "many"},
        {
            **ALL,
            "wizard_step": "review",
            "go": "confirm",
            "iface-TOTAL_FORMS": "5000",
            "multi_homed": "on",
        },
    ):
        response = client.post(base, data)
        assert response.status_code in (200, 422), (data, response.status_code)
    assert not Site.objects.filter(name="Branch office").exists()


# --- the review and the confirmation ----------------------------------------------------------


def test_the_review_shows_the_answers_and_the_rules_with_their_reasons(world):
    response = admin_client(world).post(urls(world)[0], step(ALL, "monitoring"))
    assert response.status_code == 200
    assert shown_step(response) == "review"
    body = response.content.decode()
    for slug in steps.STEP_SLUGS:
        assert f'name="go" value="{slug}" class="link-button change"' in body
    assert "Fortinet FortiGate" in body and "Every week" in body
    assert "Forward in (port-forward)" in body and "Guide rule 4: Remote monitoring" in body
    assert "Guide rule 2: Transparency" in body
    assert "<svg" in body  # the diagram
    assert "Windows backup host" in body  # the host's own instructions, outlined
    assert 'value="confirm"' in body and "Nothing has been saved yet." in body
    assert snapshot()[0] == Site.objects.count()


@pytest.mark.parametrize("vendor", [slug for slug, _ in vendor_choices()])
@pytest.mark.parametrize(
    "addressing",
    [
        {
            "host_addressing": "range",
            "host_range_start": "192.168.5.20",
            "host_range_end": "192.168.5.29",
        },
        {
            "host_addressing": "dhcp",
            "host_address": "",
            "monitoring_enabled": "",
            "host_os": "linux",
        },
    ],
    ids=["range-multi-homed-monitoring", "dhcp"],
)
def test_every_vendor_is_reviewed(world, vendor, addressing):
    data = {**ALL, **MULTI_HOMED, "vendor": vendor, **addressing}
    if addressing["host_addressing"] == "dhcp":
        data["multi_homed"] = ""
    response = admin_client(world).post(urls(world)[0], step(data, "monitoring"))
    assert response.status_code == 200 and shown_step(response) == "review"
    assert vendor_display_name(vendor) in response.content.decode().replace("&amp;", "&")


def test_the_review_shows_the_policy_warnings(world):
    data = {**ALL, "host_addressing": "dhcp", "host_address": "", "monitoring_enabled": ""}
    response = admin_client(world).post(urls(world)[0], step(data, "monitoring"))
    assert response.status_code == 200 and shown_step(response) == "review"
    body = response.content.decode()
    assert "Before you confirm" in body
    assert "Create a DHCP reservation" in body
    assert "192.168.5.0/24" in body  # the whole LAN is the rule's source


def test_confirming_creates_exactly_one_site_with_one_audit_event(
    world, django_capture_on_commit_callbacks
):
    client = admin_client(world)
    base = urls(world)[0]
    before = snapshot()
    # Walk the steps as a browser does: each answers with the next step.
    assert shown_step(client.get(base)) == "firewall"
    assert shown_step(client.post(base, step({**MANAGEMENT, **FIREWALL}, "firewall"))) == "network"
    assert (
        shown_step(client.post(base, step({**MANAGEMENT, **FIREWALL, **NETWORK}, "network")))
        == "monitoring"
    )
    assert shown_step(client.post(base, step(ALL, "monitoring"))) == "review"
    assert snapshot() == before
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(base, step(ALL, "review", go="confirm"))
    assert response.status_code == 302
    site = Site.objects.get(name="Branch office")
    assert response["Location"] == f"/o/{world.customer.slug}/sites/{site.pk}/"
    assert snapshot()[0] == before[0] + 1
    events = AuditEvent.objects.filter(action="site.created")
    assert events.count() == 1 and events.get().object_id == str(site.pk)
    assert len(callbacks) == 1  # the instructions, queued after commit
    assert site.reverify == "weekly"
    assert site.description["monitoring_sources"] == ["198.51.100.7/32", "198.51.100.0/28"]
    assert site.description["host_interfaces"] == []
    page = client.get(response["Location"])
    assert "created; its instructions are being prepared" in page.content.decode()


def test_a_multi_homed_site_keeps_its_interfaces(world):
    response = admin_client(world).post(
        urls(world)[0], step({**ALL, **MULTI_HOMED}, "review", go="confirm")
    )
    assert response.status_code == 302
    site = Site.objects.get(name="Branch office")
    assert [i["name"] for i in site.description["host_interfaces"]] == ["LAN", "Storage"]
    assert site.description["firewall_interface"] == "LAN"


@pytest.mark.parametrize(
    ("changes", "back_to", "key"),
    [
        ({"lan_network": "192.168.5.0/33"}, "network", "lan_network"),
        ({"vendor": ""}, "firewall", "vendor"),
        ({"name": "Customer One HQ"}, "firewall", "name"),
        ({"monitoring_sources": "0.0.0.0/-1"}, "monitoring", "monitoring_sources"),
        ({"reverify": "never-ever"}, "monitoring", "reverify"),
        ({"host_addressing": "dhcp", "host_address": ""}, "network", "host_address"),
        ({**MULTI_HOMED, "iface-0-index": "zero"}, "monitoring", "host_interfaces.0.index"),
        ({"unknown_field": "x", "wizard_step": "network"}, None, None),
    ],
)
def test_confirm_validates_every_hidden_answer_again(world, changes, back_to, key):
    """The review's hidden inputs are only what the browser sends: never trusted."""
    before = snapshot()
    response = admin_client(world).post(
        urls(world)[0], step({**ALL, **changes}, "review", go="confirm")
    )
    if back_to is None:  # an extra input is ignored, as the one-page form ignores it
        assert response.status_code == 302
        return
    assert response.status_code == 422
    assert shown_step(response) == back_to
    assert slot(response, key)
    assert "nothing was saved" in response.content.decode()
    assert snapshot() == before


def test_a_service_refusal_on_confirm_is_shown_and_saves_nothing(world, monkeypatch):
    """The service has the last word (e.g. a site of the same name created meanwhile)."""
    from portal.core.errors import ServiceError
    from sites.services import sites as site_services

    def refuse(**kwargs):
        raise ServiceError(
            errors={"lan_network": ["Changed meanwhile."], "organisation": ["Closed."]}
        )

    monkeypatch.setattr(site_services, "create_site", refuse)
    before = snapshot()
    response = admin_client(world).post(urls(world)[0], step(ALL, "review", go="confirm"))
    assert response.status_code == 422
    assert shown_step(response) == "firewall"  # the first step with an error: "organisation"
    assert "Closed." in response.content.decode()
    assert snapshot() == before


# --- the live checks --------------------------------------------------------------------------


def check(client, world, key, data, here="network"):
    return client.post(
        f"{urls(world)[1]}?field={key}", {**data, "wizard_step": here}, HTTP_HX_REQUEST="true"
    )


def test_a_live_check_answers_422_with_the_fields_error_and_200_when_right(world):
    client = admin_client(world)
    bad = check(client, world, "lan_network", {**ALL, "lan_network": "192.168.5.0/33"})
    assert bad.status_code == 422
    assert bad.content.decode().startswith('<ul class="errorlist"><li>LAN network: ')
    good = check(client, world, "lan_network", ALL)
    assert good.status_code == 200
    assert good.content.decode().startswith(
        '<div class="field-errors"'
    )  # empty own slot, then others
    assert Site.objects.filter(name="Branch office").count() == 0


def test_a_live_check_shows_cross_field_errors_on_the_field_they_concern(world):
    client = admin_client(world)
    # The gateway outside the LAN: an error on the gateway, once the LAN exists.
    response = check(client, world, "lan_gateway", {**ALL, "lan_gateway": "10.0.0.1"})
    assert response.status_code == 422
    assert "is not inside the LAN 192.168.5.0/24" in response.content.decode()
    # Without a LAN yet, the gateway alone is fine.
    response = check(
        client, world, "lan_gateway", {**ALL, "lan_network": "", "lan_gateway": "10.0.0.1"}
    )
    assert response.status_code == 200
    # Typing the LAN re-checks the answered host address out of band: it is the one in error.
    response = check(
        client,
        world,
        "lan_network",
        {**ALL, "lan_network": "10.0.0.0/24", "lan_gateway": "10.0.0.1"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    host = re.search(
        r'<div class="field-errors" id="id_host_address_errors"[^>]*hx-swap-oob="innerHTML">(.*?)</div>',
        body,
        re.DOTALL,
    )
    assert (
        host
        and "Backup host address: The backup host's address 192.168.5.10 is not inside the LAN"
        in host.group(1).replace("&#x27;", "'")
    )
    # A blank question is left alone: no "required" before it is answered.
    assert 'id="id_host_range_start_errors"' not in body


def test_a_live_check_of_an_interface_cell(world):
    client = admin_client(world)
    data = {**ALL, **MULTI_HOMED, "iface-1-gateway": "192.168.5.1"}
    response = check(client, world, "host_interfaces.1.gateway", data, here="monitoring")
    assert response.status_code == 422
    assert "Interface 2 gateway: The gateway 192.168.5.1 is not inside" in response.content.decode()


def test_a_live_check_warns_when_an_answer_breaks_an_earlier_step(world):
    data = {**ALL, "host_addressing": "dhcp", "host_address": ""}
    response = check(admin_client(world), world, "monitoring_enabled", data, here="monitoring")
    assert response.status_code == 200  # the checkbox itself is fine
    body = response.content.decode()
    assert 'id="wizard-earlier"' in body and "Step 2, Network and backup host" in body


def test_a_live_check_names_the_vendors_versions(world):
    response = check(admin_client(world), world, "vendor", ALL, here="firewall")
    assert response.status_code == 200 and "FortiOS" in response.content.decode()


@pytest.mark.parametrize("key", ["", "password", "host_interfaces.9.colour", "__all__"])
def test_a_live_check_of_an_unknown_question_is_refused_by_name(world, key):
    response = check(admin_client(world), world, key, ALL)
    assert response.status_code == 422
    assert "Field:" in response.content.decode()


def test_the_live_preview_follows_the_answers(world):
    client = admin_client(world)
    preview_url = urls(world)[2]
    response = client.post(preview_url, {**ALL, "wizard_step": "network"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Allow out <strong>TCP 4401</strong>" in body
    assert "Forward in (port-forward) <strong>TCP 4403, UDP 4403, TCP 4401</strong>" in body
    response = client.post(
        preview_url, {**ALL, "lan_network": "", "wizard_step": "network"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "LAN network" in response.content.decode()
    assert snapshot()[0] == Site.objects.count()


# --- who may use it, and what it costs ----------------------------------------------------------


def test_a_viewer_is_refused_and_another_organisations_wizard_does_not_exist(world):
    viewer = admin_client(world, "customer_viewer")
    admin = admin_client(world)
    for url in urls(world):
        assert viewer.get(url).status_code == 403
        assert viewer.post(url, step(ALL, "review", go="confirm")).status_code == 403
    for url in urls(world, world.other_customer):
        assert admin.get(url).status_code == 404
        assert admin.post(url, step(ALL, "review", go="confirm")).status_code == 404
    assert not Site.objects.filter(name="Branch office").exists()


def test_a_reseller_admin_adds_a_site_for_a_client(world):
    client = admin_client(world, "reseller_admin")
    response = client.post(urls(world)[0], step(ALL, "review", go="confirm"))
    assert response.status_code == 302
    assert Site.objects.get(name="Branch office").organisation == world.customer


def test_the_one_page_form_stays_available(world):
    client = admin_client(world)
    assert (
        "Save and get instructions"
        in client.get(f"/o/{world.customer.slug}/sites/new/form/").content.decode()
    )
    assert "All questions on one page" in client.get(urls(world)[0]).content.decode()
    # A post of the one-page form to the old address is still the one-page form's.
    data = {**ALL, "monitoring_enabled": "", "monitoring_sources": ""}
    response = client.post(urls(world)[0], data)
    assert response.status_code == 302 and Site.objects.filter(name="Branch office").exists()


def test_query_counts_stay_small(world, django_assert_max_num_queries):
    """Session, person, memberships and organisation; then the name check, the default profile
    for the rules, and on confirm the service's own checks and its two inserts."""
    client = admin_client(world)
    base, check_url, preview_url = urls(world)
    client.get(base)  # warm the session
    with django_assert_max_num_queries(5):
        client.get(base)
    with django_assert_max_num_queries(7):
        client.post(base, step(ALL, "monitoring"))  # the review: rules, diagram, outline
    with django_assert_max_num_queries(6):
        client.post(f"{check_url}?field=name", {**ALL, "wizard_step": "firewall"})
    with django_assert_max_num_queries(7):
        client.post(preview_url, {**ALL, "wizard_step": "network"})
    with django_assert_max_num_queries(13):
        assert client.post(base, step(ALL, "review", go="confirm")).status_code == 302


def test_the_preview_names_what_stands_in_the_way_and_ignores_record_fields(world):
    client = admin_client(world)
    preview_url = urls(world)[2]
    response = client.post(preview_url, {**ALL, "reverify": "hourly", "wizard_step": "monitoring"})
    assert response.status_code == 200  # how often to re-prove changes no rule
    response = client.post(preview_url, {**ALL, "name": "", "wizard_step": "network"})
    assert response.status_code == 422
    assert "Name" in response.content.decode() and "(step 1)" in response.content.decode()
