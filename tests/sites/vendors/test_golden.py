"""Every registered renderer, on every example site of docs/examples, matches its golden file.

Golden files live in ``golden/<vendor>/<example>.txt`` (the ``instructions_text`` of the
rendering, with the profile as the portal serves it: ``PORTAL_PROFILE``, naming the probe
addresses). After an intended output change, regenerate them, review the diff, and bump the
renderer's ``renderer_version``:

    UPDATE_GOLDEN=1 python -m pytest tests/sites/vendors/test_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sites.vendors import RENDERERS
from sites.vendors.formats import instructions_text
from tests.sites.vendors.example_sites import EXAMPLE_NAMES, PORTAL_PROFILE, load_example, render

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
@pytest.mark.parametrize("slug", sorted(RENDERERS))
def test_matches_golden_file(slug, example):
    text = instructions_text(render(slug, load_example(example), PORTAL_PROFILE))
    golden = GOLDEN_DIR / slug / f"{example}.txt"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert golden.exists(), f"missing {golden}; run with UPDATE_GOLDEN=1 to create it"
    assert text == golden.read_text()


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
@pytest.mark.parametrize("slug", sorted(RENDERERS))
def test_every_step_is_complete(slug, example):
    rendered = render(slug, load_example(example))
    assert rendered.steps
    assert [s.number for s in rendered.steps] == list(range(1, len(rendered.steps) + 1))
    for step in rendered.steps:
        assert step.title and step.reason and step.config_language
        assert step.kind in ("change", "check", "verify")
        if step.kind == "change":
            assert step.config and step.verify
        if step.kind == "verify":
            assert step.verify


def test_golden_files_have_no_strays():
    expected = {f"{slug}/{example}.txt" for slug in RENDERERS for example in EXAMPLE_NAMES}
    found = {str(p.relative_to(GOLDEN_DIR)) for p in GOLDEN_DIR.rglob("*.txt")}
    assert found == expected
