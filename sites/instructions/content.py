"""From a site description and a service profile to the frozen content of an instruction set.

Pure (no ORM): renders the site (``render_site``), turns its rules and documents into JSON, and
computes the content hash that versions instruction sets. The hash covers the site description,
the profile and each renderer's slug and version, so rendering again with nothing changed gives
the same hash, and any change to one of them gives a new one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sites.description import ProfileSpec, SiteDescription
from sites.instructions.documents import rendered_as_dict
from sites.instructions.pipeline import render_site
from sites.policy import Policy, Rule
from sites.vendors.base import Rendered


@dataclass(frozen=True)
class InstructionContent:
    content_hash: str
    renderers: list[dict]  # [{"slug": …, "version": …}]
    rules: list[dict]
    documents: list[dict]  # one rendered instruction set per renderer (see rendered_as_dict)
    rendered: tuple[Rendered, ...]  # the same documents, as the renderers returned them


def content_hash(description: dict, profile: dict, renderers: list[dict]) -> str:
    canonical = json.dumps(
        {"site": description, "profile": profile, "renderers": renderers},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def rule_as_dict(rule: Rule) -> dict:
    """A JSON-ready copy of one rule, with its reason."""
    data = {
        "kind": str(rule.kind),
        "guide_rules": [int(g) for g in rule.reason.guide_rules],
        "reason": rule.reason.detail,
        "protocol": rule.protocol,
        "port": rule.port,
        "hosts": str(rule.hosts) if rule.hosts is not None else None,
        "datacenter": [str(n) for n in rule.datacenter],
        "allowed_sources": [str(n) for n in rule.allowed_sources],
        "public_address": str(rule.public_address) if rule.public_address else None,
        "route_destination": str(rule.route_destination) if rule.route_destination else None,
        "next_hop": str(rule.next_hop) if rule.next_hop else None,
        "interface_index": rule.interface_index,
        "interface_name": rule.interface_name,
    }
    return {key: value for key, value in data.items() if value not in (None, [], "")}


def policy_as_dicts(policy: Policy) -> list[dict]:
    return [rule_as_dict(rule) for rule in policy.rules]


def build_instructions(site: SiteDescription, profile: ProfileSpec) -> InstructionContent:
    rendered = render_site(site, profile)
    versions = [{"slug": r.slug, "version": r.renderer_version} for r in rendered.renderers]
    return InstructionContent(
        content_hash=content_hash(site.to_dict(), profile.to_dict(), versions),
        renderers=versions,
        rules=policy_as_dicts(rendered.policy),
        documents=[rendered_as_dict(document) for document in rendered.documents],
        rendered=rendered.documents,
    )
