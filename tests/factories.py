"""factory_boy factories for every model. Rows that services own are still made directly here:
factories set up the world a test starts from; the behaviour under test goes through services."""
import factory
from django.contrib.auth import get_user_model

from portal.accounts.models import Membership, Organisation, OrganisationKind, Role
from portal.audit.context import Source
from portal.audit.models import ActorKind, AuditEvent
from portal.jobs.models import Job, JobKind
from sites.models import Rollout, Site

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


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    organisation = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"Site {n}")
    vendor = "fortigate"


class RolloutFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rollout

    site = factory.SubFactory(SiteFactory)


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
