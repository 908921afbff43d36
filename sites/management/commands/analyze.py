"""Analyse a firewall's current configuration for a site, without touching the database.

python manage.py analyze ruleset.txt --vendor iptables --site docs/examples/monitoring.json
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sites.analyzer.analyze import SUPPORTED_VENDORS, analyze, as_json, as_text
from sites.analyzer.evaluate import Topology
from sites.analyzer.flows import Flow, FlowError
from sites.analyzer.limits import MAX_BYTES
from sites.analyzer.model import ConfigError
from sites.management.site_files import read_site_and_profile
from sites.vendors import get_renderer


class Command(BaseCommand):
    help = (
        "Say, for each flow the guide needs (or each --flow), whether the configuration in "
        "CONFIG_FILE allows it, and which lines decide."
    )

    def add_arguments(self, parser):
        parser.add_argument("config_file", metavar="CONFIG_FILE")
        parser.add_argument(
            "--vendor", required=True, help=f"one of: {', '.join(SUPPORTED_VENDORS)}"
        )
        parser.add_argument("--site", required=True, metavar="SITE_FILE")
        parser.add_argument(
            "--flow",
            action="append",
            default=[],
            metavar="PROTO:SRC->DST:PORT",
            help="a connection as its sender sees it (repeatable); default: the guide's flows",
        )
        parser.add_argument("--format", choices=("text", "json"), default="text")
        parser.add_argument(
            "--profile", metavar="PROFILE_FILE", help="a service profile; default: the guide's"
        )
        parser.add_argument("--inside-interface", default="", help="default: the site file's")
        parser.add_argument("--outside-interface", default="", help="default: the site file's")

    def handle(self, *args, config_file, vendor, site, flow, format, profile, **options):
        if vendor not in SUPPORTED_VENDORS:
            raise CommandError(
                f"--vendor: {vendor!r} is not analysed yet; supported: "
                f"{', '.join(SUPPORTED_VENDORS)}",
                returncode=2,
            )
        site_obj, profile_obj = read_site_and_profile(site, profile)
        try:
            flows = [Flow.parse(text) for text in flow] or None
        except FlowError as error:
            raise CommandError(f"--flow {error}", returncode=2) from None
        data = _read_config(config_file)
        inside, outside = get_renderer(vendor).interfaces(site_obj)  # the vendor's defaults
        topology = Topology.of_site(
            site_obj,
            inside=options["inside_interface"] or inside,
            outside=options["outside_interface"] or outside,
        )
        try:
            analysis = analyze(data, vendor, site_obj, profile_obj, flows, topology=topology)
        except ConfigError as error:
            raise CommandError(f"{config_file}: {error}") from None
        if format == "json":
            self.stdout.write(json.dumps(as_json(analysis), indent=2))
        else:
            self.stdout.write(as_text(analysis), ending="")


def _read_config(path: str) -> bytes:
    try:
        with Path(path).open("rb") as handle:
            return handle.read(MAX_BYTES + 1)  # one byte over the limit is enough to refuse
    except FileNotFoundError:
        raise CommandError(f"config file {path}: no such file") from None
    except OSError as error:
        raise CommandError(f"config file {path}: cannot read it ({error})") from None
