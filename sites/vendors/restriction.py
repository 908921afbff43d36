"""What an inbound step says about who may connect in: the monitoring computers, and the portal's
inbound checks where the policy added their address to them (``sites.policy``, #13)."""

from __future__ import annotations

from sites.policy import Rule


def only_monitoring_sources(
    rule: Rule, who: str = "the monitoring computers", *, suffix: str = ""
) -> str:
    """The sentence of an inbound step restricted to the monitoring sources, true also where
    the policy added the portal's check source to them (``Rule.check_source``)."""
    if rule.check_source is not None:
        who += f" and the portal's checks (from {rule.check_source.network_address})"
    return f"Only {who} may connect{suffix}."
