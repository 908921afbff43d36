"""Render a site file's instructions on the command line, without touching the database.

python manage.py instructions docs/examples/monitoring.json --vendor all --format text

With ``--since OLD_SITE_FILE`` (and ``--since-profile``) it prints the change plan from the old
description to the new one; with ``--remove`` the removal plan (``--remove monitoring``: only the
monitoring access). See docs/lifecycle.md.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from sites.instructions import render_site, rendered_as_dict
from sites.management.site_files import read_site_and_profile
from sites.plans import PlansUnavailable, plan_change, plan_removal
from sites.vendors import RENDERERS, get_renderer
from sites.vendors.base import Rendered
from sites.vendors.formats import config_file, instructions_markdown, instructions_text

FORMATS = ("text", "json", "markdown", "config")


class Command(BaseCommand):
    help = "Print the firewall instructions for the site described in SITE_FILE (JSON)."

    def add_arguments(self, parser):
        parser.add_argument("site_file", metavar="SITE_FILE")
        parser.add_argument(
            "--vendor",
            default="",
            help="a renderer slug, or 'all'; default: the site's own vendor (and its host's)",
        )
        parser.add_argument(
            "--format",
            choices=FORMATS,
            default="text",
            help="config: only the configuration text, in order (with --vendor iptables a file "
            "iptables-restore --noflush loads; with --vendor nftables a file nft -f loads, or, "
            "for a plan, a POSIX shell script, as nft deletes rules by handle)",
        )
        parser.add_argument(
            "--profile",
            metavar="PROFILE_FILE",
            help="a service profile (JSON); default: the guide's",
        )
        plans = parser.add_mutually_exclusive_group()
        plans.add_argument(
            "--since",
            metavar="OLD_SITE_FILE",
            help="print the change plan from this older description of the site to SITE_FILE",
        )
        plans.add_argument(
            "--remove",
            nargs="?",
            const="all",
            choices=("all", "monitoring"),
            help="print the removal plan: of everything the instructions create (all, the "
            "default), or of the monitoring access only",
        )
        parser.add_argument(
            "--since-profile",
            metavar="PROFILE_FILE",
            help="with --since: the service profile the older description was rendered with "
            "(default: --profile)",
        )

    def handle(self, *args, site_file, vendor, format, profile, since, remove, **options):
        site, profile_obj = read_site_and_profile(site_file, profile)
        since_profile = options["since_profile"]
        if since_profile and not since:
            raise CommandError("--since-profile: only with --since OLD_SITE_FILE")

        renderers = None  # the site's own: its firewall, and its Windows host where needed
        if vendor == "all":
            renderers = [RENDERERS[slug] for slug in sorted(RENDERERS)]
        elif vendor:
            try:
                renderers = [get_renderer(vendor)]
            except KeyError:
                raise CommandError(
                    f"--vendor: unknown vendor {vendor!r}; `manage.py vendors` lists them"
                ) from None

        if since:
            old_site, old_profile = read_site_and_profile(since, since_profile or profile)
            rendered = self._plan(
                lambda: plan_change(old_site, old_profile, site, profile_obj, renderers=renderers)
            )
        elif remove:
            rendered = self._plan(
                lambda: plan_removal(site, profile_obj, scope=remove, renderers=renderers)
            )
        else:
            rendered = render_site(site, profile_obj, renderers).documents
        if format == "config" and (since or remove):
            files = [(r.vendor, RENDERERS[r.vendor].plan_file(r.steps)) for r in rendered]
            if len(files) == 1:
                self.stdout.write(files[0][1], ending="")
            else:
                self.stdout.write(
                    "\n".join(f"# ==== {slug} ====\n{text}" for slug, text in files), ending=""
                )
        elif format == "json":
            payload = [rendered_as_dict(r) for r in rendered]
            self.stdout.write(json.dumps(payload if len(payload) > 1 else payload[0], indent=2))
        elif format == "config" and len(rendered) == 1:
            self.stdout.write(config_file(rendered[0]), ending="")
        elif format == "config":
            # Several targets: label each; pass --vendor for one file a loader accepts.
            sections = [f"# ==== {r.vendor} ====\n{config_file(r)}" for r in rendered]
            self.stdout.write("\n".join(sections), ending="")
        elif format == "markdown":
            self.stdout.write(
                "\n".join(instructions_markdown(r, title=site.name) for r in rendered)
            )
        else:
            self.stdout.write("\n".join(instructions_text(r) for r in rendered), ending="")

    def _plan(self, make) -> tuple[Rendered, ...]:
        """A plan's documents, or the reason there is none as a command error."""
        try:
            plan = make()
        except PlansUnavailable as error:
            raise CommandError(f"--vendor: {error}") from None
        if plan.changes:
            self.stderr.write("Changes: " + " ".join(plan.changes))
        return plan.documents
