"""What changed between two versions of a site's instructions."""

from dataclasses import replace

from sites.description import GUIDE_PROFILE
from sites.instructions import diff_documents, render_site
from tests.sites.vendors.example_sites import make_site


def test_steps_added_removed_and_changed_are_named_by_title():
    (old,) = render_site(make_site(), GUIDE_PROFILE).documents
    first, second, *rest = old.steps
    new = replace(old, steps=(replace(second, config=second.config + "\n# edited"), *rest))
    new = replace(new, steps=(*new.steps, replace(first, title="A new step")))
    diff = diff_documents([old], [new])
    assert diff.removed == [first.title]
    assert diff.changed == [second.title]
    assert diff.added == ["A new step"]
    assert diff_documents([old], [old]).is_empty
