"""Every non-trivial read of the sites domain: querysets scoped to the actor and the organisation
in the URL, with their joins chosen here. One module per concept; the names other code imports
from ``sites.selectors`` are the ones below."""

from sites.selectors.dashboard import organisation_choices, site_ids
from sites.selectors.probes import (
    probe_attempts,
    probe_observations,
    probe_run_for,
    probe_runs_of,
    recent_probe_runs,
    waiting_runs,
)
from sites.selectors.profiles import default_profile_spec, profile_for, profiles_with_site_counts
from sites.selectors.proof import (
    latest_proof_warning,
    proof_flag,
    proof_flag_q,
    waiting_on_customer,
)
from sites.selectors.rollouts import (
    content_of,
    instruction_history,
    instruction_set_for,
    previous_version,
    rollout_step_for,
    rollout_steps,
)
from sites.selectors.sites import (
    covered_customers,
    covered_sites,
    current_rollout,
    editable_customers,
    organisations_under,
    rollouts_in_progress,
    site_for,
    site_progress_for,
    site_progress_key,
    sites_for,
    sites_for_export,
)

__all__ = [
    "content_of",
    "covered_customers",
    "covered_sites",
    "current_rollout",
    "default_profile_spec",
    "editable_customers",
    "instruction_history",
    "instruction_set_for",
    "latest_proof_warning",
    "organisation_choices",
    "organisations_under",
    "previous_version",
    "probe_attempts",
    "probe_observations",
    "probe_run_for",
    "probe_runs_of",
    "profile_for",
    "profiles_with_site_counts",
    "proof_flag",
    "proof_flag_q",
    "recent_probe_runs",
    "rollout_step_for",
    "rollout_steps",
    "rollouts_in_progress",
    "site_for",
    "site_ids",
    "site_progress_for",
    "site_progress_key",
    "sites_for",
    "sites_for_export",
    "waiting_on_customer",
    "waiting_runs",
]
