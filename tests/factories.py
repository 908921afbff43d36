"""factory_boy factories for every model. Rows that services own are still made directly here:
factories set up the world a test starts from; the behaviour under test goes through services."""

import os
from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from portal.accounts.models import (
    Invitation,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    SessionRecord,
)
from portal.api.models import ApiToken
from portal.audit.context import Source
from portal.audit.models import ActorKind, AuditEvent
from portal.audit.services import reseller_of
from portal.jobs.models import Job, JobKind
from portal.mfa import sealing
from portal.mfa.models import OrganisationMfaPolicy, RecoveryCode, TotpDevice, WebAuthnCredential
from portal.sso.models import SsoGrant, SsoIdentity
from sites.description import GUIDE_PROFILE
from sites.instructions import build_instructions
from sites.models import (
    ConfigAnalysis,
    ConfigAnalysisInput,
    DashboardCounts,
    InstructionSet,
    Notice,
    ProbeAttempt,
    ProbeObservation,
    ProbeRun,
    Rollout,
    RolloutStep,
    ServiceProfile,
    Site,
)
from sites.services.proof import refresh_proof_summary
from sites.services.rollouts import refresh_rollout_state

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.test")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("slug",)

    name = "Provider"
    slug = "provider"
    kind = OrganisationKind.PROVIDER
    parent = None


class ResellerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Reseller {n}")
    slug = factory.Sequence(lambda n: f"reseller-{n}")
    kind = OrganisationKind.RESELLER
    parent = factory.SubFactory(ProviderFactory)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Customer {n}")
    slug = factory.Sequence(lambda n: f"customer-{n}")
    kind = OrganisationKind.CUSTOMER
    parent = factory.SubFactory(ResellerFactory)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(CustomerFactory)
    role = Role.CUSTOMER_ADMIN


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    organisation = factory.SubFactory(CustomerFactory)
    email = factory.Sequence(lambda n: f"invited{n}@example.test")
    role = Role.CUSTOMER_VIEWER
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class SessionRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SessionRecord

    session_key = factory.Sequence(lambda n: f"session{n:033d}")
    user = factory.SubFactory(UserFactory)
    ip_address = "192.0.2.10"
    user_agent = "Firefox/140"
    last_seen_at = factory.LazyFunction(timezone.now)


class ApiTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiToken

    person = factory.SubFactory(UserFactory)
    name = "Monitoring script"
    prefix = factory.Sequence(lambda n: f"{n:08x}")
    key_hash = factory.Sequence(lambda n: f"{n:064x}")


class TotpDeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TotpDevice

    user = factory.SubFactory(UserFactory)
    sealed_secret = factory.LazyFunction(lambda: sealing.seal("JBSWY3DPEHPK3PXP"))
    confirmed_at = factory.LazyFunction(timezone.now)


class WebAuthnCredentialFactory(factory.django.DjangoModelFactory):
    """A stored security key (its public key is random bytes: it signs nothing; the ceremonies'
    tests use tests/portal/mfa/soft_authenticator.py)."""

    class Meta:
        model = WebAuthnCredential

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Security key {n}")
    credential_id = factory.Sequence(lambda n: f"credential-{n:08d}")
    public_key = factory.LazyFunction(lambda: os.urandom(77))
    transports = ["usb"]


class RecoveryCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RecoveryCode

    user = factory.SubFactory(UserFactory)
    salt = factory.Sequence(lambda n: f"{n:032x}")
    code_hash = factory.Sequence(lambda n: f"{n:064x}")


class OrganisationMfaPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganisationMfaPolicy

    organisation = factory.SubFactory(CustomerFactory)
    required = True


class SsoIdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SsoIdentity

    user = factory.SubFactory(UserFactory)
    issuer = "https://login.backup.example"
    subject = factory.Sequence(lambda n: f"subject-{n}")
    email = factory.LazyAttribute(lambda identity: identity.user.email)


class SsoGrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SsoGrant

    identity = factory.SubFactory(SsoIdentityFactory)
    membership = factory.SubFactory(
        MembershipFactory, user=factory.SelfAttribute("..identity.user")
    )


def site_description(**overrides) -> dict:
    """A valid site description (docs/site-file.md), with ``overrides`` applied."""
    return {
        "name": "Main office",
        "vendor": "fortigate",
        "lan_network": "192.168.1.0/24",
        "lan_gateway": "192.168.1.1",
        "host_addressing": "static",
        "host_address": "192.168.1.10",
        "host_os": "windows",
        "public_address": "192.0.2.1",
        **overrides,
    }


def guide_profile() -> ServiceProfile:
    """The default profile as migration ``sites.0003_guide_profile`` leaves it, made again when a
    transactional test's flush deleted it (``ServiceProfile.objects.default()`` only reads)."""
    return ServiceProfile.objects.filter(is_default=True).first() or ServiceProfile.objects.create(
        slug="securidata-online-backup", is_default=True, **GUIDE_PROFILE.to_dict()
    )


class ServiceProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceProfile

    name = factory.Sequence(lambda n: f"Backup product {n}")
    slug = factory.Sequence(lambda n: f"backup-product-{n}")
    datacenter_networks = factory.LazyFunction(lambda: ["203.0.113.0/24"])
    outbound_ports = factory.LazyFunction(lambda: [{"protocol": "tcp", "port": 4401}])
    monitoring_ports = factory.LazyFunction(
        lambda: [{"protocol": "tcp", "port": 4403}, {"protocol": "udp", "port": 4403}]
    )


class SiteFactory(factory.django.DjangoModelFactory):
    """A described site on the default profile; ``regenerate_site`` gives it instructions."""

    class Meta:
        model = Site

    organisation = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"Site {n}")
    vendor = "fortigate"
    profile = factory.LazyFunction(lambda: ServiceProfile.objects.default())
    description = factory.LazyAttribute(lambda o: site_description(name=o.name, vendor=o.vendor))
    public_address = "192.0.2.1"


class InstructionSetFactory(factory.django.DjangoModelFactory):
    """A version of a site's instructions, rendered for real (no rollout: see ``regenerate_site``)."""

    class Meta:
        model = InstructionSet
        exclude = ("content",)

    site = factory.SubFactory(SiteFactory)
    version = factory.Sequence(lambda n: n + 1)
    profile = factory.SelfAttribute("site.profile")
    profile_revision = factory.SelfAttribute("profile.revision")
    description = factory.SelfAttribute("site.description")
    content = factory.LazyAttribute(
        lambda o: build_instructions(o.site.as_description(), o.profile.as_spec())
    )
    content_hash = factory.LazyAttribute(lambda o: o.content.content_hash)
    renderers = factory.LazyAttribute(lambda o: o.content.renderers)
    rules = factory.LazyAttribute(lambda o: o.content.rules)
    documents = factory.LazyAttribute(lambda o: o.content.documents)


class RolloutFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rollout

    site = factory.SubFactory(SiteFactory)


class RolloutStepFactory(factory.django.DjangoModelFactory):
    """A step; its rollout's state and step counts follow, as ``refresh_rollout_state`` keeps them."""

    class Meta:
        model = RolloutStep
        skip_postgeneration_save = True

    rollout = factory.SubFactory(RolloutFactory)
    position = factory.Sequence(lambda n: n + 1)
    vendor = "fortigate"
    number = factory.SelfAttribute("position")
    key = factory.LazyAttribute(lambda o: f"fortigate:change:Step {o.position}")
    fingerprint = "0" * 16
    title = factory.LazyAttribute(lambda o: f"Step {o.position}")
    kind = "change"

    @factory.post_generation
    def _rollout_summary(obj, create, extracted, **kwargs):
        if create:
            with transaction.atomic():
                refresh_rollout_state(obj.rollout)


class ProbeRunFactory(factory.django.DjangoModelFactory):
    """A probe run as the service opens one (use ``start_probe_run`` to test the opening itself),
    or a settled one (``state``, ``finished_at`` and ``created_at`` given: ``created_at`` is set
    after the insert, which would otherwise stamp it now).

    The site's proof summary follows, as ``sites.services.proof`` keeps it when a run settles:
    give the times here rather than changing the run afterwards (or call
    ``refresh_proof_summary`` after such a change).
    """

    class Meta:
        model = ProbeRun

    site = factory.SubFactory(SiteFactory)
    instruction_set = factory.LazyAttribute(lambda o: o.site.current_instruction_set)
    direction = "outbound"
    expected = factory.LazyFunction(lambda: [{"protocol": "tcp", "port": 4401}])
    token = factory.Sequence(lambda n: f"{n}.4102444800.test-nonce.test-mac-{n}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=30))

    @classmethod
    def _create(cls, model_class, *args, created_at=None, **kwargs):
        run = super()._create(model_class, *args, **kwargs)
        if created_at is not None:
            model_class.objects.filter(pk=run.pk).update(created_at=created_at)
            run.created_at = created_at
        refresh_proof_summary(site_ids=[run.site_id])
        return run


class ProbeObservationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProbeObservation

    run = factory.SubFactory(ProbeRunFactory)
    direction = "outbound"
    port = 4401
    protocol = "tcp"
    observed_ip = "192.0.2.1"
    observed_port = 50123
    outcome = "ok"
    received_at = factory.LazyFunction(timezone.now)


class ProbeAttemptFactory(factory.django.DjangoModelFactory):
    """A worker's try at an inbound check (``claim_inbound_run`` opens them in the product)."""

    class Meta:
        model = ProbeAttempt

    run = factory.SubFactory(ProbeRunFactory, direction="inbound", state="running", attempts=1)
    number = factory.LazyAttribute(lambda o: o.run.attempts or 1)
    started_at = factory.LazyFunction(timezone.now)


class NoticeFactory(factory.django.DjangoModelFactory):
    """A profile change's notice to a customer (``sites.services.notices`` makes them)."""

    class Meta:
        model = Notice

    organisation = factory.SubFactory(CustomerFactory)
    subject = "The service profile changed: firewall steps to follow"
    body = "1 site needs a change on the firewall."
    reason = "The provider added a datacenter network."
    site_count = 1


class DashboardCountsFactory(factory.django.DjangoModelFactory):
    """One person's headline counts of a dashboard, as a worker counted them
    (``sites.services.dashboard_counts`` makes them)."""

    class Meta:
        model = DashboardCounts

    organisation = factory.SubFactory(CustomerFactory)
    user = factory.SubFactory(UserFactory)
    scope = "0" * 64
    counts = factory.LazyFunction(lambda: {"attention": 1, "unproven": 2, "failing": 1})
    counted_at = factory.LazyFunction(timezone.now)
    requested_at = factory.LazyAttribute(lambda row: row.counted_at)


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    kind = JobKind.HEALTH_PING
    organisation = factory.SubFactory(ProviderFactory)


class AuditEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditEvent

    actor_kind = ActorKind.SYSTEM
    action = "test.event"
    source = Source.SYSTEM
    # As record_event writes it: the reseller whose trail holds the organisation's events.
    reseller_id = factory.LazyAttribute(lambda o: reseller_of(getattr(o, "organisation", None)))


class ConfigAnalysisFactory(factory.django.DjangoModelFactory):
    """A configuration check as ``request_analysis`` queues one (``run_analysis`` settles it)."""

    class Meta:
        model = ConfigAnalysis

    site = factory.SubFactory(SiteFactory)
    instruction_set = factory.LazyAttribute(lambda o: o.site.current_instruction_set)
    vendor = factory.SelfAttribute("site.vendor")


class ConfigAnalysisInputFactory(factory.django.DjangoModelFactory):
    """The redacted text of a queued check."""

    class Meta:
        model = ConfigAnalysisInput

    analysis = factory.SubFactory(ConfigAnalysisFactory)
    text = "*filter\n:FORWARD DROP [0:0]\nCOMMIT\n"
