"""Demo data: the provider, two resellers with customers, one person per role, and sites.

Idempotent: running it again creates only what is missing. The demo passwords are documented in
README.md and printed at the end.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from portal.accounts import services as accounts
from portal.accounts.models import Organisation, OrganisationKind, Role
from portal.audit.context import begin_command_context, clear_context
from sites.models import Site, StepState
from sites.services import rollouts
from sites.services import sites as site_services
from sites.services.instructions import regenerate_site

DEMO_PASSWORD = "portal-demo"

PROVIDER = ("SecuriData", "securidata")
RESELLERS = {
    ("Northwind IT Services", "northwind"): [
        ("Acme Dental", "acme-dental", ["Main office", "Branch Harbour Street", "Lab"]),
        ("Birch & Co Accountants", "birch-co", ["Head office", "Home office"]),
        ("Cobalt Logistics", "cobalt-logistics", ["Warehouse", "Depot north", "Depot south", "HQ"]),
    ],
    ("Blue Harbour MSP", "blue-harbour"): [
        ("Delta Architects", "delta-architects", ["Studio"]),
        ("Evergreen School", "evergreen-school", ["Campus", "Admin building"]),
    ],
}
VENDORS = [
    "fortigate",
    "cisco-asa",
    "pfsense",
    "sonicwall",
    "meraki",
    "mikrotik",
    "iptables",
    "paloalto",
    "sophos",
    "watchguard",
    "opnsense",
    "edgeos",
    "juniper-srx",
    "checkpoint",
]
# How far each demo site's rollout has come: the number of steps marked done (-1: one failed).
PROGRESS = [2, 0, 99, 1, -1, 3, 0]

# username, role, organisation slug, full name
PEOPLE = [
    ("support", Role.SUPPORT, "securidata", "Sam Support"),
    ("operator", Role.OPERATOR, "securidata", "Olivia Operator"),
    ("northwind", Role.RESELLER_ADMIN, "northwind", "Nora Northwind"),
    ("blueharbour", Role.RESELLER_ADMIN, "blue-harbour", "Ben Harbour"),
    ("acme-admin", Role.CUSTOMER_ADMIN, "acme-dental", "Alice Acme"),
    ("acme-viewer", Role.CUSTOMER_VIEWER, "acme-dental", "Victor Viewer"),
    ("delta-admin", Role.CUSTOMER_ADMIN, "delta-architects", "Dana Delta"),
]


class Command(BaseCommand):
    help = "Create (or complete) the demo organisations, people and sites."

    def handle(self, *args, **options):
        begin_command_context(name="seed_demo")
        try:
            with transaction.atomic():
                created = self._seed()
        finally:
            clear_context()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} new objects)."))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, role, org_slug, _ in PEOPLE:
            self.stdout.write(f"  {username:<12} {Role(role).label:<18} {org_slug}")

    def _seed(self) -> int:
        created = 0

        def organisation(name, slug, kind, parent):
            nonlocal created
            existing = Organisation.objects.filter(slug=slug).first()
            if existing:
                return existing
            created += 1
            return accounts.create_organisation(
                name=name, slug=slug, kind=kind, parent=parent, contact_email=f"it@{slug}.example"
            )

        provider = organisation(*PROVIDER, OrganisationKind.PROVIDER, None)
        site_number = 0
        for (reseller_name, reseller_slug), customers in RESELLERS.items():
            reseller = organisation(
                reseller_name, reseller_slug, OrganisationKind.RESELLER, provider
            )
            for customer_name, customer_slug, site_names in customers:
                customer = organisation(
                    customer_name, customer_slug, OrganisationKind.CUSTOMER, reseller
                )
                for site_name in site_names:
                    if Site.objects.filter(organisation=customer, name=site_name).exists():
                        continue
                    self._demo_site(customer, site_name, site_number)
                    site_number += 1
                    created += 1

        User = get_user_model()
        for username, role, org_slug, full_name in PEOPLE:
            user = User.objects.filter(username=username).first()
            if user is None:
                first, last = full_name.split(" ", 1)
                user = accounts.create_person(
                    username=username,
                    email=f"{username}@demo.example",
                    password=DEMO_PASSWORD,
                    first_name=first,
                    last_name=last,
                )
                created += 1
            accounts.add_membership(
                organisation=Organisation.objects.get(slug=org_slug), user=user, role=role
            )
        return created

    @staticmethod
    def _demo_site(customer, name: str, n: int) -> None:
        """A plausible site: vendors, addressing and monitoring vary from one site to the next."""
        lan = f"192.168.{10 + n}"
        data = {
            "name": name,
            "vendor": VENDORS[n % len(VENDORS)],
            "lan_network": f"{lan}.0/24",
            "lan_gateway": f"{lan}.1",
            "host_addressing": ["static", "static", "dhcp", "range"][n % 4],
            "host_os": ["windows", "linux", "windows", "other"][n % 4],
            "public_address": f"192.0.2.{10 + n}" if n % 5 else None,
        }
        if data["host_addressing"] == "static":
            data["host_address"] = f"{lan}.10"
        elif data["host_addressing"] == "range":
            data.update(
                host_range_start=f"{lan}.10", host_range_end=f"{lan}.19", host_address=f"{lan}.10"
            )
        if n % 3 == 0 and data["host_addressing"] != "dhcp":
            data.update(monitoring_enabled=True, monitoring_sources=["198.51.100.7/32"])
        site = site_services.create_site(organisation=customer, data=data)
        instruction_set, _ = regenerate_site(site_id=site.pk)
        progress = PROGRESS[n % len(PROGRESS)]
        steps = list(instruction_set.rollout.steps.order_by("position"))
        if progress < 0:
            rollouts.mark_step(step=steps[0], state=StepState.DONE)
            rollouts.mark_step(
                step=steps[1],
                state=StepState.FAILED,
                note="The GUI has no such menu on our firmware.",
            )
        for step in steps[: max(progress, 0)]:
            rollouts.mark_step(step=step, state=StepState.DONE)
