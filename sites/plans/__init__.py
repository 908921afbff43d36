"""Change and removal plans over a site's life (``engine``), and the reasons they give
(``changes``). Pure: no ORM, no clock; the portal stores plans as instruction documents."""

from sites.plans.changes import describe_changes
from sites.plans.engine import (
    ADD,
    CHANGE,
    REMOVE,
    ItemChange,
    Plan,
    diff_items,
    plan_change,
    plan_removal,
)
from sites.vendors.base import PlansUnavailable

__all__ = [
    "ADD",
    "CHANGE",
    "REMOVE",
    "ItemChange",
    "Plan",
    "PlansUnavailable",
    "describe_changes",
    "diff_items",
    "plan_change",
    "plan_removal",
]
