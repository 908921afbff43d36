"""A small world of tenants, one person per role and a few objects, for tenancy and permission tests."""

from dataclasses import dataclass, field

from portal.accounts.models import Organisation, Role
from portal.jobs.models import Job
from sites.models import ServiceProfile, Site
from sites.services.instructions import regenerate_site
from tests.factories import (
    CustomerFactory,
    JobFactory,
    MembershipFactory,
    ProbeRunFactory,
    ProviderFactory,
    ResellerFactory,
    SiteFactory,
    UserFactory,
)

ROLES = [
    Role.CUSTOMER_ADMIN,
    Role.CUSTOMER_VIEWER,
    Role.RESELLER_ADMIN,
    Role.SUPPORT,
    Role.OPERATOR,
]


@dataclass
class World:
    provider: Organisation
    reseller: Organisation
    other_reseller: Organisation
    customer: Organisation
    sibling_customer: Organisation
    other_customer: Organisation
    people: dict = field(default_factory=dict)  # role → user
    sites: dict = field(default_factory=dict)  # organisation slug → site
    jobs: dict = field(default_factory=dict)  # organisation slug → job
    probe_runs: dict = field(default_factory=dict)  # organisation slug → probe run of its site
    profile: ServiceProfile | None = None

    @property
    def organisations(self) -> list[Organisation]:
        return [
            self.provider,
            self.reseller,
            self.other_reseller,
            self.customer,
            self.sibling_customer,
            self.other_customer,
        ]


def build_world() -> World:
    provider = ProviderFactory()
    reseller = ResellerFactory(parent=provider, name="Reseller One", slug="reseller-one")
    other_reseller = ResellerFactory(parent=provider, name="Reseller Two", slug="reseller-two")
    world = World(
        provider=provider,
        reseller=reseller,
        other_reseller=other_reseller,
        customer=CustomerFactory(parent=reseller, name="Customer One", slug="customer-one"),
        sibling_customer=CustomerFactory(
            parent=reseller, name="Customer Sibling", slug="customer-sibling"
        ),
        other_customer=CustomerFactory(
            parent=other_reseller, name="Customer Other", slug="customer-other"
        ),
    )
    homes = {
        Role.CUSTOMER_ADMIN: world.customer,
        Role.CUSTOMER_VIEWER: world.customer,
        Role.RESELLER_ADMIN: world.reseller,
        Role.SUPPORT: provider,
        Role.OPERATOR: provider,
    }
    for role, organisation in homes.items():
        user = UserFactory(username=str(role))
        MembershipFactory(user=user, organisation=organisation, role=role)
        world.people[role] = user
    for organisation in (world.customer, world.sibling_customer, world.other_customer):
        site: Site = SiteFactory(organisation=organisation, name=f"{organisation.name} HQ")
        regenerate_site(site_id=site.pk)
        site.refresh_from_db()
        world.sites[organisation.slug] = site
        world.probe_runs[organisation.slug] = ProbeRunFactory(site=site)
    world.profile = ServiceProfile.objects.default()
    job: Job = JobFactory(organisation=provider)
    world.jobs[provider.slug] = job
    return world
