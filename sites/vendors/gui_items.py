"""Items made in a vendor's web GUI (pfSense, OPNsense, SonicWall's GUI dialogs, Sophos,
WatchGuard): one dialog's fields, and the words that add, edit and delete it.

A GUI dialog has no delete syntax of its own, so a plan says where the item is listed, which one
it is (by its marker, in the Description, Comment or Name field the vendor has) and what to do:
add it with these fields, edit it so that its fields read these (a dialog overwrites, so a change
is an edit in place), or delete it. The renderers build their complete instructions from the same
``GuiItem`` objects, so the complete steps and the plans show the same fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sites.policy import Rule
from sites.vendors.base import guide_rules_of
from sites.vendors.managed import Exposure, ManagedItem


@dataclass(frozen=True)
class GuiItem:
    """One object or rule made in a GUI dialog.

    - ``add_path``: where it is added; ``listed``: the list where it is edited or deleted;
    - ``what`` and ``found_by``: which one, in words (``the rule`` ``whose Description begins
      with obm:…``);
    - ``fields``: the dialog's fields, one per line, the marker among them;
    - ``only_if``: a condition under which alone it is added (its removal and edit then say "If
      you added it");
    - ``rules``: the policy rules behind it (for its guide rules).
    """

    key: str
    marker: str
    title: str
    exposure: Exposure
    add_path: str
    listed: str
    what: str
    found_by: str
    fields: str
    remove_note: str = ""
    only_if: str = ""
    uses: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()


def managed_item(item: GuiItem, *, save: str, deleted: str = "") -> ManagedItem:
    """The plan item of a GUI item: ``save`` ends an add or an edit ("Save."), ``deleted`` follows
    a deletion (", then click Apply Changes")."""
    condition = f"{item.only_if}: " if item.only_if else ""
    if_added = "If you added it: " if item.only_if else ""
    which = f"{item.what} {item.found_by}"
    return ManagedItem(
        key=item.key,
        marker=item.marker,
        title=item.title,
        exposure=item.exposure,
        create=f"{condition}{item.add_path}:\n{item.fields}\n{save}",
        remove=(
            f"{if_added}{item.listed}: delete {which}{deleted}."
            + (f" {item.remove_note}" if item.remove_note else "")
        ),
        update=(
            f"{if_added}{item.listed}: edit {which} so that its fields read:\n{item.fields}\n{save}"
        ),
        uses=item.uses,
        gui_path=item.listed,
        guide_rules=guide_rules_of(item.rules),
    )


def listed_verify(items: Iterable[ManagedItem], *, present: bool, holds: str) -> str:
    """A plan step's check in the GUI: the lists its items are in, and their markers; ``holds``
    says which field carries them ("name", "Description")."""
    chosen = list(items)
    places = " and ".join(dict.fromkeys(item.gui_path for item in chosen))
    markers = "\n".join(item.marker for item in chosen)
    found = "each is listed" if present else "none is listed any more"
    return f"{places}: search for each of these by {holds}; {found}:\n{markers}"
