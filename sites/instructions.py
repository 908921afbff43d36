"""From a site description and a service profile to the frozen content of an instruction set.

Pure (no ORM): derives the rules, renders every document the site needs (its firewall, and its
Windows host where needed), and computes the content hash that versions instruction sets. The
hash covers the site description, the profile and each renderer's slug and version, so rendering
again with nothing changed gives the same hash, and any change to one of them gives a new one.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sites.description import ProfileSpec, SiteDescription
from sites.policy import Policy, Rule, derive_rules
from sites.vendors import renderers_for_site
from sites.vendors.formats import rendered_as_dict


@dataclass(frozen=True)
class InstructionContent:
    content_hash: str
    renderers: list[dict]  # [{"slug": …, "version": …}]
    rules: list[dict]
    documents: list[dict]  # one rendered instruction set per renderer (see rendered_as_dict)


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
    renderers = renderers_for_site(site)
    versions = [{"slug": r.slug, "version": r.renderer_version} for r in renderers]
    policy = derive_rules(site, profile)
    documents = [rendered_as_dict(r.render(policy, site, profile)) for r in renderers]
    return InstructionContent(
        content_hash=content_hash(site.to_dict(), profile.to_dict(), versions),
        renderers=versions,
        rules=policy_as_dicts(policy),
        documents=documents,
    )


def step_key(vendor: str, step: dict) -> str:
    """Identifies a step across versions: same vendor, kind and title."""
    return f"{vendor}:{step['kind']}:{step['title']}"


def step_fingerprint(step: dict) -> str:
    """Changes when anything the customer does for the step changes."""
    material = json.dumps(
        [step["gui_path"], step["config"], step["verify"]], separators=(",", ":")
    )
    return hashlib.sha256(material.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class InstructionDiff:
    added: list[str]
    removed: list[str]
    changed: list[str]

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def diff_documents(old: list[dict], new: list[dict]) -> InstructionDiff:
    """Steps added, removed and changed between two versions' documents (titles, in order)."""

    def index(documents):
        return {
            step_key(doc["vendor"], step): (step["title"], step_fingerprint(step))
            for doc in documents
            for step in doc["steps"]
        }

    before, after = index(old), index(new)
    return InstructionDiff(
        added=[after[k][0] for k in after if k not in before],
        removed=[before[k][0] for k in before if k not in after],
        changed=[after[k][0] for k in after if k in before and before[k][1] != after[k][1]],
    )
