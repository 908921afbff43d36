"""Render a site file's instructions on the command line, without touching the database.

python manage.py instructions docs/examples/monitoring.json --vendor all --format text
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sites.description import GUIDE_PROFILE, DescriptionError, ProfileSpec, SiteDescription
from sites.instructions import render_site, rendered_as_dict
from sites.vendors import RENDERERS, get_renderer
from sites.vendors.formats import config_file, instructions_markdown, instructions_text

FORMATS = ("text", "json", "markdown", "config")


def read_json(path: str, what: str):
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise CommandError(f"{what} {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"{what} {path}: cannot read it ({error})") from None
    except json.JSONDecodeError as error:
        raise CommandError(
            f"{what} {path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None


def describe_errors(path: str, error: DescriptionError) -> str:
    lines = [f"{path}: the site description is not valid:"]
    for field, messages in sorted(error.errors.items()):
        lines += [f"  {field}: {message}" for message in messages]
    return "\n".join(lines)


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
        profile_obj = GUIDE_PROFILE
        if profile:
            try:
                profile_obj = ProfileSpec.from_dict(read_json(profile, "profile file"))
            except DescriptionError as error:
                raise CommandError(describe_errors(profile, error)) from None
        try:
            site = SiteDescription.from_dict(read_json(site_file, "site file"))
        except DescriptionError as error:
            raise CommandError(describe_errors(site_file, error)) from None

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
