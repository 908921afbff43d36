"""Reading a site file and a service-profile file on the command line (the `instructions` and
`analyze` commands): a clear CommandError for a missing, unreadable, non-JSON or invalid file."""

import json
from pathlib import Path

from django.core.management.base import CommandError

from sites.description import GUIDE_PROFILE, DescriptionError, ProfileSpec, SiteDescription


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


def describe_errors(path: str, error: DescriptionError, what: str = "site description") -> str:
    lines = [f"{path}: the {what} is not valid:"]
    for field, messages in sorted(error.errors.items()):
        lines += [f"  {field}: {message}" for message in messages]
    return "\n".join(lines)


def read_site_and_profile(
    site_path: str, profile_path: str | None
) -> tuple[SiteDescription, ProfileSpec]:
    """The site file's description and the profile file's spec (the guide's without one)."""
    profile = GUIDE_PROFILE
    if profile_path:
        try:
            profile = ProfileSpec.from_dict(read_json(profile_path, "profile file"))
        except DescriptionError as error:
            raise CommandError(describe_errors(profile_path, error, "service profile")) from None
    try:
        site = SiteDescription.from_dict(read_json(site_path, "site file"))
    except DescriptionError as error:
        raise CommandError(describe_errors(site_path, error)) from None
    return site, profile
