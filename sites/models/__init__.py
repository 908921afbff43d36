"""The sites domain's models: one module per concept."""
from sites.models.rollout import Rollout, RolloutState
from sites.models.site import Site

__all__ = ["Rollout", "RolloutState", "Site"]
