"""Linux nftables (a Linux router or firewall box doing NAT for the LAN).

Targets nftables 1.0 and later (Debian 12, Ubuntu 22.04+, RHEL 9) on Linux 5.10 or later; named
chain priorities (``priority filter``, ``srcnat``, ``dstnat``) need nftables 0.9.6, comments on
tables and chains 0.9.7 and Linux 5.10. Checked here with ``nft -c -f``, and loaded into a real
(namespaced) firewall by the packet lab.

The output is one file for ``nft -f``, one step per table:

- ``table inet filter``: declares the usual ``forward`` base chain *without* a policy (an
  existing chain keeps its own) and a regular chain ``backup_forward`` holding, in order,
  ``ct state established,related accept`` (replies must pass whatever the policy is), the
  outbound accepts and, with monitoring, the inbound accepts on the host's *private* address
  (forward sees packets after DNAT). One ``insert rule … jump backup_forward`` puts it at the
  top of ``forward``, before any final drop or reject rule.
- ``table ip nat``: ``masquerade`` for the backup traffic only (transparency) and one
  ``dnat ip to`` per protocol and port for monitoring, restricted to the monitoring sources.

An accept in one table does not override a drop in another: if the customer's ruleset keeps its
forward rules in another table (firewalld's ``inet firewalld``, a custom name), the rules belong
there; the step says so.

**Markers.** Every rule (the jump too) carries ``comment "obm:<site>:<key>"``, and so does every
table and chain the file declares. A declaration's comment only lands when the declaration
*creates* the table or chain: one that already exists keeps its own (the kernel does not update a
comment), so the marker on a table or chain says "created by these instructions", and a removal
deletes it only then, and only once it is empty.

**Plans** (``plan_file``) are a POSIX shell script, not an ``nft -f`` file: nftables deletes and
replaces a rule by its *handle*, a number only the live ruleset knows, so the script looks each of
our rules up by its comment (``nft -a list chain``) and then runs ``nft delete rule … handle N`` or
a transaction (``nft -f -``) that inserts the new rule just before the old one and deletes the old
one. A rule that changes is thus replaced in place, atomically, and keeps its position; additions are skipped when a rule with the marker is already there, deletions
when none is, so running the script twice changes nothing the second time.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network

from sites.analyzer.model import ShadowingRule
from sites.description import ProfileSpec, SiteDescription
from sites.policy import GuideRule, HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, guide_rules_of, verification_steps, with_reason
from sites.vendors.managed import Exposure, ManagedItem, marker, rule_key
from sites.vendors.restriction import connecting, sources_label

CHAIN = "backup_forward"

# The shell functions a plan step uses, each defined where a step needs it, once at the top of
# a plan's script (``plan_file``). Checked with dash and real nft by the packet lab
# (tests/sites/lab/test_plan_sequences.py) and tests/sites/vendors/test_loaders.py. Syntax as the
# nftables wiki's "Simple rule management" gives it: `nft -a list` shows each rule's handle,
# `delete rule FAMILY TABLE CHAIN handle N` deletes one, `insert rule … position N` inserts before
# rule N; `add table`/`add chain` leave an existing one as it is (no error), which the lab shows
# keeps its comment.
_HELPERS_INTRO = (
    "# nft deletes and replaces a rule by its handle: these functions find our rules by their\n"
    "# comment (the marker) in `nft -a list chain`.\n"
)
_FIND = """\
obm_handles() {  # FAMILY TABLE CHAIN MARKER: the handles of the rules with that comment
	nft -a list chain "$1" "$2" "$3" 2>/dev/null | grep -F " comment \\"$4\\" # handle " |
		sed 's/.* # handle //'
}
"""
_HELPERS = {
    "obm_add": """\
obm_add() {  # FAMILY TABLE CHAIN MARKER RULE: append RULE, commented MARKER, unless it is there
	[ -n "$(obm_handles "$1" "$2" "$3" "$4")" ] || nft "add rule $1 $2 $3 $5 comment \\"$4\\""
}
""",
    "obm_insert": """\
obm_insert() {  # FAMILY TABLE CHAIN MARKER RULE: the same, at the top of the chain
	[ -n "$(obm_handles "$1" "$2" "$3" "$4")" ] || nft "insert rule $1 $2 $3 $5 comment \\"$4\\""
}
""",
    "obm_replace": """\
obm_replace() {  # FAMILY TABLE CHAIN MARKER RULE: change the rule commented MARKER into RULE
	obm_found=$(obm_handles "$1" "$2" "$3" "$4")
	if [ -z "$obm_found" ]; then
		echo "no rule commented $4 in $1 $2 $3 (removed by hand, or the site renamed?):" \\
			"stopping here; compare the ruleset with the plan" >&2
		return 1
	fi
	for obm_handle in $obm_found; do
		# One transaction: the new rule goes in just before the old one, which goes. (Not
		# `nft replace rule`: nftables 1.0.6 aborts on it when the rule holds a set of networks.)
		printf '%s\\n' "insert rule $1 $2 $3 position $obm_handle $5 comment \\"$4\\"" \\
			"delete rule $1 $2 $3 handle $obm_handle" | nft -f -
	done
}
""",
    "obm_delete": """\
obm_delete() {  # FAMILY TABLE CHAIN MARKER: delete the rules commented MARKER (if any)
	for obm_handle in $(obm_handles "$1" "$2" "$3" "$4"); do
		nft "delete rule $1 $2 $3 handle $obm_handle"
	done
}
""",
    "obm_delete_chain": """\
obm_delete_chain() {  # FAMILY TABLE CHAIN MARKER: delete the chain if we created it and it is empty
	obm_listing=$(nft -a list chain "$1" "$2" "$3" 2>/dev/null) || return 0
	printf '%s\\n' "$obm_listing" | grep -v ' # handle [0-9]*$' | grep -qF "comment \\"$4\\"" ||
		return 0
	printf '%s\\n' "$obm_listing" | grep ' # handle [0-9]*$' | grep -qvE '^[[:space:]]*(table|chain) ' &&
		return 0
	nft "delete chain $1 $2 $3"
}
""",
    "obm_delete_table": """\
obm_delete_table() {  # FAMILY TABLE MARKER: delete the table if we created it and it is empty
	obm_listing=$(nft -a list table "$1" "$2" 2>/dev/null) || return 0
	printf '%s\\n' "$obm_listing" | grep -v ' # handle [0-9]*$' | grep -qF "comment \\"$3\\"" ||
		return 0
	printf '%s\\n' "$obm_listing" | grep ' # handle [0-9]*$' | grep -qv '^table ' && return 0
	nft "delete table $1 $2"
}
""",
}
_NEEDS_FIND = ("obm_add", "obm_insert", "obm_replace", "obm_delete")

SCRIPT_HEADER = """\
#!/bin/sh
# A POSIX shell script, not an nft file: nftables deletes and replaces a rule by its handle, which
# only the live ruleset knows, so this script finds each of our rules by its comment
# (obm:<site>:<key>) and changes exactly those. Run it once as root: sh FILE. Running it again
# changes nothing: a rule already there is not added twice, one already gone is not deleted.
set -eu
nft list tables >/dev/null  # stops here, with nft's message, if nft cannot read the ruleset
"""


class NftablesRenderer(Renderer):
    slug = "nftables"
    name = "Linux nftables"
    versions = "nftables 1.0 and later, Linux 5.10 and later"
    renderer_version = 3  # 2: inbound accepts require ct status dnat; 3: markers
    markers_since = 3
    plan_language = "sh"
    supports_ranges = True  # ip saddr A-B
    hides_lan_by_default = False
    default_interfaces = ("lan0", "wan0")

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        inside, outside = self.interfaces(site)
        entries = _entries(policy, site, inside, outside)
        steps = [
            Step(
                title="Allow the backup traffic through the firewall (inet filter table)",
                gui_path="Command line",
                config=_file(entries, "inet filter"),
                config_language="nft",
                reason=(
                    "Lets the backup host reach the datacenter"
                    + (
                        ", lets the monitoring GUI reach the backup host,"
                        if policy.of_kind(RuleKind.ALLOW_INBOUND)
                        else ""
                    )
                    + " and lets the replies of those connections back. "
                    "Save the file, check it with `nft -c -f FILE`, then load it once with "
                    "`nft -f FILE` (loading twice adds the rules twice). If your forward rules "
                    "live in another table (e.g. firewalld), put these rules there instead: an "
                    "accept in one table does not override a drop in another. Each rule, and "
                    "each table or chain the file creates, carries an obm: comment: change and "
                    "removal plans find them by it."
                ),
                verify=f"nft list chain inet filter {CHAIN}\nnft list chain inet filter forward",
                guide_rules=guide_rules_of(
                    policy.of_kind(RuleKind.ALLOW_OUTBOUND, RuleKind.ALLOW_INBOUND)
                ),
            ),
            Step(
                title=(
                    "Translate the backup connections"
                    + (
                        " and forward the monitoring ports"
                        if policy.of_kind(RuleKind.DESTINATION_NAT)
                        else ""
                    )
                    + " (ip nat table)"
                ),
                gui_path="Command line",
                config=_file(entries, "ip nat"),
                config_language="nft",
                reason=(
                    "Masquerades the backup connections behind the firewall's outside address "
                    "(the guide's transparency)"
                    + (
                        ", and forwards the monitoring ports from the public address to the "
                        "backup host"
                        if policy.of_kind(RuleKind.DESTINATION_NAT)
                        else ""
                    )
                    + ". Load it with the filter table (`nft -f FILE`)."
                ),
                verify="nft list table ip nat",
                guide_rules=guide_rules_of(
                    policy.of_kind(RuleKind.SOURCE_NAT, RuleKind.DESTINATION_NAT)
                ),
            ),
        ]
        steps += verification_steps(
            policy,
            gui_path="Command line",
            outbound_verify=(
                "# while the probe runs on the backup host:\n"
                + "\n".join(
                    f"conntrack -L -p {r.protocol} --dport {r.port}"
                    for r in policy.of_kind(RuleKind.ALLOW_OUTBOUND)
                )
            ),
            inbound_verify=(
                "# while the portal checks, the forwarded connections appear:\n"
                + "\n".join(
                    f"conntrack -L -p {r.protocol} --dport {r.port} --dst-nat"
                    for r in policy.of_kind(RuleKind.DESTINATION_NAT)
                )
            ),
        )
        return steps

    def place_above(self, step: Step, deny: ShadowingRule) -> Step:
        """The jump to our chain goes to the top of ``inet filter forward``, before any chain it
        jumps to. A deny in another base chain (another table, or another priority at the same
        or an earlier hook) still drops what ours accepted: the same rules go into that chain,
        inserted at the deny's place (``insert rule … index N``: its 0-based position in the
        export; by handle, ``position H``, if the chain changed since)."""
        body = re.search(rf"chain {CHAIN} {{\n(.*?)\n\t}}", step.config, flags=re.DOTALL)
        ours = [
            line.strip()
            for line in (body.group(1).splitlines() if body else [])
            if " accept comment " in line and not line.strip().startswith("#")
        ]
        where = f"{deny.family} {deny.table} {deny.chain}"
        why = f"Your rule at line {deny.line} `{deny.text}` (in {where})"
        if not ours or deny.family not in ("ip", "inet"):
            return super().place_above(step, deny)
        in_our_table = (deny.family, deny.table) == ("inet", "filter")
        if in_our_table and (deny.chain == "forward" or not deny.hook):  # after our jump
            return with_reason(
                step,
                f"{why} would otherwise block this connection first: the jump to {CHAIN} is "
                "inserted at the top of forward (`insert rule`), so it comes before it.",
            )
        before_routing = deny.hook == "prerouting"
        index = deny.position - 1
        lines = [
            f"insert rule {where} index {index} {_in_chain(rule, before_routing)}"
            for rule in reversed(ours)  # each goes in at the same place: the first ends on top
        ]
        block = (
            f"# Above your line {deny.line} in {where}, which would otherwise drop these "
            "connections first\n# (if that chain changed since the export: `nft -a list chain "
            f"{where}` shows each rule's handle;\n# use `position HANDLE` instead of "
            f"`index {index}`).\n" + "\n".join(lines) + "\n"
        )
        return dataclasses.replace(
            step,
            config=step.config + block,
            reason=(
                f"{step.reason} {why} would otherwise block this connection first: an accept "
                "in one base chain does not override a drop in another, so the same rules also "
                f"go into {where}, inserted just above it (rule {deny.position} of that chain in "
                f"your export: `index {index}`; or find its handle with `nft -a list chain "
                f"{where}` and use `position <handle>`)."
            ),
            verify=step.verify + f"\nnft -a list chain {where}",
        )

    def managed_items(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[ManagedItem, ...]:
        inside, outside = self.interfaces(site)
        return tuple(_item(entry) for entry in _entries(policy, site, inside, outside))

    def placed_items(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec, deny: ShadowingRule
    ) -> tuple[ManagedItem, ...]:
        """The copies ``place_above`` inserts into another base chain, each with its original's
        marker (the copy carries the same comment) and a key of its own, so a plan finds them
        by that comment in *that* chain (``obm_delete``). A plan that adds one inserts it at
        the top of that chain, which is above the deny too."""
        body_rules = [
            e
            for e in _entries(policy, site, *self.interfaces(site))
            if e.what == "rule" and e.chain == CHAIN and e.text.endswith(" accept")
        ]
        in_our_table = (deny.family, deny.table) == ("inet", "filter")
        if (
            not body_rules
            or deny.family not in ("ip", "inet")
            or (in_our_table and (deny.chain == "forward" or not deny.hook))
        ):
            return ()
        before_routing = deny.hook == "prerouting"
        return tuple(
            _item(
                dataclasses.replace(
                    entry,
                    table=f"{deny.family} {deny.table}",
                    chain=deny.chain,
                    key=f"{entry.key}@{deny.family}-{deny.table}-{deny.chain}-{deny.line}",
                    text=_in_chain(entry.text, before_routing),
                    title=f"{entry.title} ({deny.family} {deny.table} {deny.chain}, above your "
                    f"line {deny.line})",
                    uses=(),
                    insert=True,
                )
            )
            for entry in body_rules
        )

    def plan_section(self, section: str, body: str) -> str:
        """The body with the definitions of the shell functions it calls, so a step can be
        pasted on its own."""
        return _definitions(body) + body

    def plan_verify(self, items: Iterable[ManagedItem], *, present: bool) -> str:
        chosen = list(items)
        markers = list(dict.fromkeys(item.marker for item in chosen))
        patterns = " ".join(f"-e '\"{marker}\"'" for marker in markers)
        expected = "each marker once" if present else "nothing"
        if present and len(chosen) > len(markers):
            # A rule copied above a deny in another chain carries its original's marker.
            expected = "each marker once, and once more per copy in another chain"
        text = f"nft list ruleset | grep -F {patterns}  # {expected}"
        if any(item.key.endswith(("-table", "-chain")) for item in chosen):
            text += (
                "\n# A table or chain that was there before keeps its own comment, so its marker "
                "is missing;\n# "
                + (
                    "that is expected."
                    if present
                    else "one we created stays while it still holds other rules or chains."
                )
            )
        return text

    def plan_file(self, steps: Iterable[Step]) -> str:
        """A POSIX shell script (``SCRIPT_HEADER``): the functions once, then every step's
        commands in order."""
        changes = [step for step in steps if step.config.strip()]
        if not changes:
            return ""
        bodies = []
        for step in changes:
            body = step.config.replace(_HELPERS_INTRO, "").replace(_FIND, "")
            for helper in _HELPERS.values():
                body = body.replace(helper, "")
            bodies.append(f"\n# Step {step.number}: {step.title}\n{body}")
        script = SCRIPT_HEADER + "\n" + _definitions("".join(bodies)) + "".join(bodies)
        return script.rstrip("\n") + "\n"


def _definitions(body: str) -> str:
    """The definitions of the shell functions ``body`` calls, with a line saying why."""
    used = [name for name in _HELPERS if f"\n{name} " in f"\n{body}"]
    if not used:
        return ""
    find = _FIND if any(name in _NEEDS_FIND for name in used) else ""
    return _HELPERS_INTRO + find + "".join(_HELPERS[name] for name in used)


@dataclass(frozen=True)
class _Entry:
    """One table, chain or rule the instructions create, with its marker.

    ``text``: a rule's statement (without its comment), or a chain's declaration (``type … ;``,
    empty for a regular chain); ``notes``: the comment lines above it in the complete file."""

    what: str  # "table", "chain" or "rule"
    table: str  # "inet filter", "ip nat"
    chain: str
    key: str
    marker: str
    text: str
    title: str
    exposure: Exposure
    uses: tuple[str, ...] = ()
    guide_rules: tuple[GuideRule, ...] = ()
    notes: tuple[str, ...] = ()
    insert: bool = False  # a rule that goes at the top of its chain (the jump)


def _entries(policy: Policy, site: SiteDescription, inside: str, outside: str) -> list[_Entry]:
    """Every table, chain and rule, in the order of the complete file."""
    entries: list[_Entry] = []

    def add(what, table, chain, key, text, title, exposure, uses=(), rule=None, notes=(), **kw):
        entries.append(
            _Entry(
                what=what,
                table=table,
                chain=chain,
                key=key,
                marker=marker(site, key),
                text=text,
                title=title,
                exposure=exposure,
                uses=uses,
                guide_rules=rule.reason.guide_rules if rule else (),
                notes=notes,
                **kw,
            )
        )

    support = Exposure.SUPPORT
    add("table", "inet filter", "", "filter-table", "", "Table inet filter", support)
    add(
        "chain",
        "inet filter",
        "forward",
        "forward-chain",
        "type filter hook forward priority filter;",
        "Base chain forward (no policy: an existing one keeps its own)",
        support,
        ("filter-table",),
        notes=("# No policy here: an existing forward chain keeps its own.",),
    )
    add(
        "chain",
        "inet filter",
        CHAIN,
        "backup-chain",
        "",
        f"Chain {CHAIN}",
        support,
        ("filter-table",),
    )
    add(
        "rule",
        "inet filter",
        CHAIN,
        "established",
        "ct state established,related accept",
        "Accept the replies of allowed connections",
        support,
        ("backup-chain",),
        notes=("# Replies to allowed connections; does not rely on the chain's policy.",),
    )
    for rule in policy.of_kind(RuleKind.ALLOW_OUTBOUND):
        add(
            "rule",
            "inet filter",
            CHAIN,
            rule_key(rule),
            f'iifname "{inside}" oifname "{outside}" ip saddr {_hosts(rule.required_hosts)} '
            f"ip daddr {_set(rule.datacenter)} {_port(rule)} accept",
            f"Allow {rule.port_spec} from the backup host to the datacenter",
            Exposure.OUTBOUND,
            ("backup-chain",),
            rule,
            (f"# {rule.reason.label}: backup host -> datacenter, {rule.port_spec}.",),
        )
    for number, rule in enumerate(policy.of_kind(RuleKind.ALLOW_INBOUND)):
        notes: tuple[str, ...] = (
            f"# {rule.reason.label}: {connecting(rule)} -> backup host, {rule.port_spec}.",
        )
        if number == 0:
            notes = (
                "# forward sees forwarded packets after DNAT: match the private address, and only"
                " connections that came through the port-forward (ct status dnat).",
                *notes,
            )
        add(
            "rule",
            "inet filter",
            CHAIN,
            rule_key(rule),
            f'iifname "{outside}" oifname "{inside}"{_saddr(rule.allowed_sources)} '
            f"ip daddr {rule.required_hosts.start} {_port(rule)} ct status dnat accept",
            f"Allow {rule.port_spec} in to the backup host"
            + (
                " from " + sources_label(rule, "the monitoring sources")
                if rule.allowed_sources
                else ""
            ),
            Exposure.INBOUND,
            ("backup-chain",),
            rule,
            notes,
        )
    add(
        "rule",
        "inet filter",
        "forward",
        "jump",
        f"jump {CHAIN}",
        f"Send forwarded traffic through {CHAIN} first",
        support,
        ("forward-chain", "backup-chain"),
        notes=("# At the top of forward, before any final drop or reject rule.",),
        insert=True,
    )
    add("table", "ip nat", "", "nat-table", "", "Table ip nat", support)
    forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
    if forwards:
        add(
            "chain",
            "ip nat",
            "prerouting",
            "prerouting-chain",
            "type nat hook prerouting priority dstnat;",
            "Base chain prerouting (port forwards)",
            support,
            ("nat-table",),
        )
    for rule in forwards:
        # A dynamic public address: match "addressed to this firewall" instead.
        to_firewall = (
            f"ip daddr {rule.public_address}" if rule.public_address else "fib daddr type local"
        )
        add(
            "rule",
            "ip nat",
            "prerouting",
            rule_key(rule),
            f'iifname "{outside}"{_saddr(rule.allowed_sources)} {to_firewall} '
            f"{_port(rule)} dnat ip to {rule.required_hosts.start}:{rule.port}",
            f"Forward {rule.port_spec} to the backup host"
            + (
                " from " + sources_label(rule, "the monitoring sources")
                if rule.allowed_sources
                else ""
            ),
            Exposure.INBOUND,
            ("prerouting-chain",),
            rule,
            (f"# {rule.reason.label}: forward {rule.port_spec} to the backup host.",),
        )
    add(
        "chain",
        "ip nat",
        "postrouting",
        "postrouting-chain",
        "type nat hook postrouting priority srcnat;",
        "Base chain postrouting (masquerade)",
        support,
        ("nat-table",),
    )
    for rule in policy.of_kind(RuleKind.SOURCE_NAT):
        add(
            "rule",
            "ip nat",
            "postrouting",
            rule_key(rule),
            f'oifname "{outside}" ip saddr {_hosts(rule.required_hosts)} '
            f"ip daddr {_set(rule.datacenter)} {_port(rule)} masquerade",
            f"Masquerade {rule.port_spec} to the datacenter",
            support,
            ("postrouting-chain",),
            rule,
            (f"# {rule.reason.label}: backup connections leave with the outside address.",),
        )
    return entries


def _file(entries: list[_Entry], table: str) -> str:
    """The complete ``nft -f`` text of one table: its block, then the rules inserted into it."""
    lines: list[str] = []
    inserted: list[str] = []
    chain = ""
    for entry in entries:
        if entry.table != table:
            continue
        comment = f'comment "{entry.marker}"'
        if entry.what == "table":
            lines += [f"table {table} {{", f"\t{comment}"]
        elif entry.what == "chain":
            if chain:
                lines.append("\t}")
            chain = entry.chain
            lines += [f"\t{note}" for note in entry.notes]
            lines.append(f"\tchain {entry.chain} {{")
            lines += [f"\t\t{entry.text}"] if entry.text else []
            lines.append(f"\t\t{comment}")
        elif entry.insert:
            inserted += [*entry.notes, f"insert rule {table} {entry.chain} {entry.text} {comment}"]
        else:
            lines += [f"\t\t{note}" for note in entry.notes]
            lines.append(f"\t\t{entry.text} {comment}")
    lines += ["\t}", "}", *inserted]
    return "\n".join(lines) + "\n"


def _item(entry: _Entry) -> ManagedItem:
    family, table = entry.table.split()
    where = f"{family} {table} {entry.chain}".strip()
    update = ""
    if entry.what == "table":
        create = f"nft {shlex.quote(f'add table {where} {{ comment "{entry.marker}"; }}')}"
        remove = f"obm_delete_table {where} {entry.marker}"
    elif entry.what == "chain":
        body = f'{entry.text} comment "{entry.marker}";'.strip()
        create = f"nft {shlex.quote(f'add chain {where} {{ {body} }}')}"
        remove = f"obm_delete_chain {where} {entry.marker}"
    else:
        command = "obm_insert" if entry.insert else "obm_add"
        create = f"{command} {where} {entry.marker} {shlex.quote(entry.text)}"
        update = f"obm_replace {where} {entry.marker} {shlex.quote(entry.text)}"
        remove = f"obm_delete {where} {entry.marker}"
    return ManagedItem(
        key=entry.key,
        marker=entry.marker,
        title=entry.title,
        exposure=entry.exposure,
        create=create,
        remove=remove,
        update=update,
        uses=entry.uses,
        guide_rules=entry.guide_rules,
    )


def _hosts(hosts: HostMatch) -> str:
    return str(hosts)  # 192.168.1.10, 192.168.1.10-192.168.1.20 or 192.168.1.0/24: all valid nft


def _set(networks: tuple[IPv4Network, ...]) -> str:
    """One value as is; several as an anonymous set."""
    if len(networks) == 1:
        return _address(networks[0])
    return "{ " + ", ".join(_address(n) for n in networks) + " }"


def _saddr(networks: tuple[IPv4Network, ...]) -> str:
    """`` ip saddr …`` for the allowed sources, or nothing for "any source"."""
    return f" ip saddr {_set(networks)}" if networks else ""


def _address(network: IPv4Network) -> str:
    return str(network.network_address) if network.prefixlen == 32 else str(network)


def _port(rule: Rule) -> str:
    return f"{rule.protocol} dport {rule.port}"


def _in_chain(rule: str, before_routing: bool) -> str:
    """A forward rule as a rule of another chain: before routing there is no output interface
    (``oifname`` would never match)."""
    return re.sub(r'oifname "[^"]*" ', "", rule) if before_routing else rule
