"""Which existing rule refuses a flow the guide needs first: an explicit drop or reject that
decides a blocked verdict, found in the ruleset with its chain and position, so the instructions
can put their accept above it (``sites.vendors.reuse``) and say why.

A policy (a chain's default, FortiGate's implicit deny, PAN-OS's interzone default) is not a rule
one can be placed above: the instructions' accept already comes before it, so none is returned.
"""

from __future__ import annotations

import re

from sites.analyzer.evaluate import BLOCKED, Verdict
from sites.analyzer.model import ActionKind, Rule, Ruleset, ShadowingRule

_REFUSES = ("drops the new connection", "rejects the new connection")
_REFUSING = frozenset({ActionKind.DROP, ActionKind.REJECT})
_PANOS_NAME = re.compile(r'^security rule "([^"]*)"')


def shadowing_rule(
    ruleset: Ruleset, verdict: Verdict, flow: str = "", guide_rules: tuple[int, ...] = ()
) -> ShadowingRule | None:
    """The explicit rule that refuses the new connection of a blocked flow, or ``None``."""
    if verdict.verdict != BLOCKED or not verdict.lines:
        return None
    deciding = [c for c in verdict.lines if c.line > 0 and c.effect.startswith(_REFUSES)]
    if not deciding:
        return None
    line = deciding[-1].line
    for table in ruleset.tables:
        for chain in table.chains.values():
            lines_before: list[int] = []
            for rule in chain.rules:
                if rule.line == line and rule.action.kind in _REFUSING:
                    return ShadowingRule(
                        line=line,
                        text=rule.text,
                        chain=chain.name,
                        position=len(dict.fromkeys(lines_before)) + 1,
                        table=table.name,
                        family=table.family,
                        name=_vendor_name(ruleset.vendor, rule),
                        hook=chain.hook or "",
                        flow=flow,
                        guide_rules=guide_rules,
                    )
                if rule.line > 0:
                    lines_before.append(rule.line)
    return None


def _vendor_name(vendor: str, rule: Rule) -> str:
    """How the vendor's own commands name the rule: a FortiGate policy ID (``edit 7``), a PAN-OS
    rule name, an ASA access list's name, an IOS entry's sequence number; empty where the
    position is enough."""
    words = rule.text.split()
    if vendor == "fortigate" and len(words) == 2 and words[0] == "edit":
        return words[1].strip('"')
    if vendor == "paloalto" and (found := _PANOS_NAME.search(rule.text)):
        return found.group(1)
    if vendor == "cisco-asa" and len(words) > 1 and words[0] == "access-list":
        return words[1]
    if vendor == "cisco-ios" and words and words[0].isdigit():
        return words[0]
    return ""
