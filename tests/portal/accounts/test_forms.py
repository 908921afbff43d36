"""Bad input on every form gets field errors with status 422 and changes nothing."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from portal.accounts.models import Organisation
from portal.audit.models import AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def state():
    """Everything a form here could change."""
    return (
        list(Organisation.objects.values_list("pk", "name", "contact_email", "parent_id")),
        [u.password for u in get_user_model().objects.order_by("pk")],
        AuditEvent.objects.exclude(action__in=["auth.login_failed"]).count(),
    )


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"username": "", "password": ""}, "username", "This field is required"),
        ({"username": "customer_admin", "password": "nope"}, None, "correct username and password"),
    ],
)
def test_login_rejects_bad_input(world, data, field, message):
    before = state()
    response = Client().post("/accounts/login/", data)
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert message in str(errors.get(field or "__all__"))
    assert state() == before


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            {"old_password": "wrong", "new_password1": "Xq7!vLp92z", "new_password2": "Xq7!vLp92z"},
            "old_password",
        ),
        (
            {
                "old_password": PASSWORD,
                "new_password1": "Xq7!vLp92z",
                "new_password2": "different9!",
            },
            "new_password2",
        ),
        (
            {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"},
            "new_password2",
        ),
    ],
)
def test_password_change_rejects_bad_input(world, data, field):
    client = signed_in(world.people["customer_admin"])
    before = state()
    response = client.post("/accounts/password/change/", data)
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert state() == before


def test_password_change_works_and_is_audited(world):
    user = world.people["customer_admin"]
    data = {"old_password": PASSWORD, "new_password1": "Xq7!vLp92z", "new_password2": "Xq7!vLp92z"}
    response = signed_in(user).post("/accounts/password/change/", data)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Xq7!vLp92z")
    assert AuditEvent.objects.filter(action="auth.password_changed", actor_user_id=user.pk).exists()


def test_password_reset_rejects_a_malformed_address(world):
    response = Client().post("/accounts/password/reset/", {"email": "not-an-address"})
    assert response.status_code == 422
    assert "email" in response.context["form"].errors


def test_password_reset_sends_a_working_link(world, mailoutbox):
    user = world.people["customer_admin"]
    response = Client().post("/accounts/password/reset/", {"email": user.email})
    assert response.status_code == 302
    link = next(line for line in mailoutbox[0].body.splitlines() if "/password/reset/" in line)
    client = Client()
    page = client.get(link.strip().split("testserver", 1)[1], follow=True)
    assert page.status_code == 200 and page.context["validlink"]
    response = client.post(
        page.redirect_chain[-1][0], {"new_password1": "Xq7!vLp92z", "new_password2": "Xq7!vLp92z"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Xq7!vLp92z")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "contact_email": ""}, "name"),
        ({"name": "x", "contact_email": ""}, "name"),
        ({"name": "A" * 121, "contact_email": ""}, "name"),
        ({"name": "Fine name", "contact_email": "not-an-email"}, "contact_email"),
        ({"name": "Customer Sibling", "contact_email": ""}, "name"),  # clashes with a sibling
    ],
)
def test_organisation_settings_reject_bad_input(world, data, field):
    client = signed_in(world.people["customer_admin"])
    before = state()
    response = client.post(f"/o/{world.customer.slug}/settings/", data)
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert state() == before


def test_organisation_settings_save(world):
    url = f"/o/{world.customer.slug}/settings/"
    data = {"name": "Customer Renamed", "contact_email": "it@customer.example"}
    response = signed_in(world.people["customer_admin"]).post(url, data)
    assert response.status_code == 302
    world.customer.refresh_from_db()
    assert world.customer.name == "Customer Renamed"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "contact_email": ""}, "name"),
        (
            {"name": "Customer One", "contact_email": ""},
            "name",
        ),  # already a client of this reseller
        ({"name": "New client", "contact_email": "@@"}, "contact_email"),
    ],
)
def test_client_creation_rejects_bad_input(world, data, field):
    client = signed_in(world.people["reseller_admin"])
    before = state()
    response = client.post(f"/o/{world.reseller.slug}/clients/new/", data)
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert state() == before


def test_client_creation_creates_a_customer_below_the_reseller(world):
    url = f"/o/{world.reseller.slug}/clients/new/"
    response = signed_in(world.people["reseller_admin"]).post(
        url, {"name": "Fresh Client", "contact_email": ""}
    )
    assert response.status_code == 302
    client = Organisation.objects.get(name="Fresh Client")
    assert client.parent == world.reseller and client.kind == "customer"
    assert response["Location"] == f"/o/{client.slug}/"
    assert (
        AuditEvent.objects.filter(action="organisation.created", organisation_id=client.pk).count()
        == 1
    )


def test_switcher_refuses_an_unknown_or_foreign_organisation(world):
    client = signed_in(world.people["customer_admin"])
    assert client.get("/accounts/switch/", {"org": world.other_customer.slug}).status_code == 404
    assert client.get("/accounts/switch/", {"org": "no such org!"}).status_code == 302
    assert (
        client.get("/accounts/switch/", {"org": world.customer.slug})["Location"]
        == f"/o/{world.customer.slug}/"
    )
