"""List the renderers: slug first, then name and the versions it targets, one per line."""

from django.core.management.base import BaseCommand

from sites.vendors import RENDERERS


class Command(BaseCommand):
    help = "List the vendor renderer slugs with their names and targeted versions."

    def handle(self, *args, **options):
        for slug in sorted(RENDERERS):
            renderer = RENDERERS[slug]
            self.stdout.write(f"{slug}\t{renderer.name}\t{renderer.versions}")
