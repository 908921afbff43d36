"""Site pages: one module per page family (sites, rollouts, service profiles)."""
