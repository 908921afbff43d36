"""The sites domain's models: one module per concept."""

from sites.models.analysis import (
    AnalysisState,
    ConfigAnalysis,
    ConfigAnalysisInput,
)
from sites.models.dashboard_counts import DashboardCounts
from sites.models.instruction_set import InstructionSet, PlanKind
from sites.models.notice import Notice
from sites.models.probe import (
    AttemptOutcome,
    ProbeAttempt,
    ProbeDirection,
    ProbeObservation,
    ProbePurpose,
    ProbeRun,
    ProbeRunState,
    ProbeSource,
)
from sites.models.profile import ServiceProfile
from sites.models.rollout import Rollout, RolloutState, RolloutStep, StepState
from sites.models.site import Lifecycle, Site

__all__ = [
    "AnalysisState",
    "ConfigAnalysis",
    "ConfigAnalysisInput",
    "DashboardCounts",
    "AttemptOutcome",
    "InstructionSet",
    "Lifecycle",
    "Notice",
    "PlanKind",
    "ProbeAttempt",
    "ProbeDirection",
    "ProbeObservation",
    "ProbePurpose",
    "ProbeRun",
    "ProbeRunState",
    "ProbeSource",
    "Rollout",
    "RolloutState",
    "RolloutStep",
    "ServiceProfile",
    "Site",
    "StepState",
]
