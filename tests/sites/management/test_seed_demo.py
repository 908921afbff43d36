"""The demo seed creates every role's person and is idempotent."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from portal.accounts.models import Membership, Organisation
from portal.audit.models import AuditEvent
from sites.management.commands.seed_demo import DEMO_PASSWORD, PEOPLE
from sites.models import Site

pytestmark = pytest.mark.django_db


def counts():
    return (
        Organisation.objects.count(),
        get_user_model().objects.count(),
        Membership.objects.count(),
        Site.objects.count(),
        AuditEvent.objects.count(),
    )


def test_seed_is_idempotent_and_audited(capsys):
    call_command("seed_demo")
    first = counts()
    call_command("seed_demo")
    assert counts() == first
    assert AuditEvent.objects.filter(source="command", action="site.created").count() == first[3]
    output = capsys.readouterr().out
    assert DEMO_PASSWORD in output


def test_every_demo_person_can_log_in_with_the_documented_password():
    call_command("seed_demo")
    roles = set()
    for username, role, org_slug, _ in PEOPLE:
        user = get_user_model().objects.get(username=username)
        assert user.check_password(DEMO_PASSWORD)
        assert Membership.objects.filter(user=user, organisation__slug=org_slug, role=role).exists()
        roles.add(role)
    assert roles == {"customer_admin", "customer_viewer", "reseller_admin", "support", "operator"}
