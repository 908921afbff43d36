"""Plain words for audit events: what happened and who did it, as a customer reads them.

The stored codes (``membership.created``, ``command:seed_demo``) stay what support searches and
exports; pages show these words, and only support's pages add the code beside them.
"""

from __future__ import annotations

from portal.audit.models import ActorKind, AuditEvent

ACTION_SENTENCES: dict[str, str] = {
    "api_token.created": "Created an API token",
    "api_token.revoked": "Revoked an API token",
    "audit.exported": "Exported the audit trail",
    "auth.locked_out": "Sign-in locked after too many failed attempts",
    "auth.lockout_cleared": "Cleared a sign-in lockout",
    "auth.login": "Signed in",
    "auth.login_failed": "Failed to sign in",
    "auth.logout": "Signed out",
    "auth.password_changed": "Changed their password",
    "auth.password_reset": "Reset their password",
    "analysis.finished": "Finished checking a firewall configuration",
    "analysis.requested": "Asked to check a firewall configuration",
    "instructions.generated": "Prepared new instructions",
    "invitation.accepted": "Accepted an invitation",
    "invitation.resent": "Sent an invitation again",
    "invitation.revoked": "Withdrew an invitation",
    "invitation.sent": "Sent an invitation",
    "job.queued": "Queued a background task",
    "job.requeued": "Queued a background task again",
    "job.started": "Started a background task",
    "job.running": "Started a background task",
    "job.succeeded": "Finished a background task",
    "job.failed": "A background task failed",
    "member.logged_out": "Signed a member out",
    "membership.changed": "Changed a membership",
    "membership.created": "Added a member",
    "membership.removed": "Removed a member",
    "membership.role_changed": "Changed a member's role",
    "mfa.disabled": "Turned off two-factor authentication",
    "mfa.enabled": "Turned on two-factor authentication",
    "mfa.failed": "Entered a wrong two-factor code",
    "mfa.policy_changed": "Changed the two-factor policy",
    "mfa.recovery_codes_regenerated": "Made new two-factor recovery codes",
    "mfa.reset": "Reset someone's two-factor authentication",
    "mfa.verified": "Confirmed a two-factor code",
    "notice.dismissed": "Dismissed a notice",
    "organisation.created": "Created an organisation",
    "organisation.updated": "Changed the organisation's settings",
    "permission.denied": "Was refused access",
    "person.created": "Created a person's account",
    "probe.check_requested": "Asked for a check",
    "probe.requeued": "Sent a check again",
    "probe.started": "Started a check",
    "probe.running": "A check is running",
    "probe.proven": "A check proved the path open",
    "probe.failed": "A check failed",
    "probe.not_proven": "A check could not prove the path",
    "probe.expired": "A check expired unanswered",
    "probe.waiting": "A check waits for the probe",
    "profile.updated": "Changed a service profile",
    "rollout.step_changed": "Updated a rollout step",
    "session.ended": "Ended a session",
    "sso.failed": "Single sign-on failed verification",
    "sso.login": "Signed in through single sign-on",
    "sso.refused": "Was refused single sign-on",
    "site.agent_key_issued": "Issued a probe agent key",
    "site.agent_key_revoked": "Revoked a probe agent key",
    "site.created": "Created a site",
    "site.proof_flagged": "Flagged a site's proof",
    "site.proof_recovered": "A site's proof recovered",
    "site.updated": "Changed a site",
    "sites.bulk_queued": "Started an action on several sites",
    "sites.exported": "Exported sites",
    "sites.imported": "Imported sites",
    "webauthn.failed": "A security key or passkey was refused",
    "webauthn.registered": "Added a security key or passkey",
    "webauthn.removed": "Removed a security key or passkey",
    "webauthn.used": "Signed in with a security key or passkey",
}

FAMILY_NAMES: dict[str, str] = {
    "api_token": "API tokens",
    "audit": "Audit trail",
    "auth": "Signing in",
    "instructions": "Instructions",
    "invitation": "Invitations",
    "job": "Background tasks",
    "member": "Members",
    "membership": "Members",
    "mfa": "Two-factor authentication",
    "organisation": "Organisation",
    "permission": "Access",
    "person": "People",
    "probe": "Checks",
    "profile": "Service profiles",
    "rollout": "Rollouts",
    "session": "Sessions",
    "site": "Sites",
    "sites": "Several sites",
    "webauthn": "Security keys and passkeys",
}

ACTOR_NAMES: dict[str, str] = {
    "command:seed_demo": "Set-up script",
    "probe-responder": "The portal's probe service",
    "worker": "The portal's background worker",
}
ACTOR_KIND_NAMES: dict[str, str] = {
    ActorKind.WORKER: "The portal's background worker",
    ActorKind.COMMAND: "A maintenance script",
    ActorKind.ANONYMOUS: "Someone not signed in",
    ActorKind.SYSTEM: "The portal",
}


def action_sentence(action: str) -> str:
    """The sentence for an action code; an unlisted code reads as its words ("site moved")."""
    if action in ACTION_SENTENCES:
        return ACTION_SENTENCES[action]
    return action.replace(".", " ").replace("_", " ").capitalize()


def family_name(family: str) -> str:
    """The heading of a family of actions ("auth" → "Signing in")."""
    return FAMILY_NAMES.get(family) or family.replace("_", " ").capitalize()


def actor_name(event: AuditEvent) -> str:
    """Who did it, in words: a person's username, else what the portal's own actor is."""
    if event.actor_kind == ActorKind.PERSON or (
        event.actor_kind == ActorKind.ANONYMOUS and event.actor_label
    ):
        return event.actor_label or ACTOR_KIND_NAMES[ActorKind.ANONYMOUS]
    return ACTOR_NAMES.get(event.actor_label) or ACTOR_KIND_NAMES.get(
        event.actor_kind, event.actor_label
    )
