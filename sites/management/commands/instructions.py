"""Render a site file's instructions on the command line, without touching the database.

python manage.py instructions docs/examples/monitoring.json --vendor all --format text
"""

import json

from django.core.management.base import BaseCommand, CommandError

from sites.instructions import render_site, rendered_as_dict
from sites.management.site_files import read_site_and_profile
from sites.vendors import RENDERERS, get_renderer
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
            "iptables-restore loads, with --vendor nftables one nft -f loads)",
        )
        parser.add_argument(
            "--profile",
            metavar="PROFILE_FILE",
            help="a service profile (JSON); default: the guide's",
        )

    def handle(self, *args, site_file, vendor, format, profile, **options):
        site, profile_obj = read_site_and_profile(site_file, profile)

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

        rendered = render_site(site, profile_obj, renderers).documents
        if format == "json":
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
