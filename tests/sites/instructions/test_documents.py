"""Stored instruction documents: written and read back in one place, and a rollout step's
content found one way."""

import hashlib
import json

import pytest

from sites.description import GUIDE_PROFILE
from sites.instructions import (
    read_documents,
    render_site,
    rendered_as_dict,
    rendered_from_dict,
    rollout_order,
    step_as_dict,
    step_content,
    step_contents,
    step_fingerprint,
    step_key,
)
from sites.instructions.documents import unique_warnings
from sites.vendors import RENDERERS
from tests.sites.vendors.example_sites import EXAMPLE_NAMES, MONITORING, load_example, make_site


@pytest.mark.parametrize("slug", sorted(RENDERERS))
@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_a_stored_document_reads_back_as_rendered(slug, example):
    site = load_example(example)
    (rendered,) = render_site(site, GUIDE_PROFILE, [RENDERERS[slug]]).documents
    stored = json.loads(json.dumps(rendered_as_dict(rendered)))  # as the JSON field gives it back
    assert rendered_from_dict(stored) == rendered
    assert rendered_as_dict(rendered_from_dict(stored)) == stored


def windows_site_documents() -> list[dict]:
    site = load_example("multihomed-windows")
    return [rendered_as_dict(r) for r in render_site(site, GUIDE_PROFILE).documents]


def test_rollout_order_counts_positions_across_documents():
    documents = windows_site_documents()
    order = list(rollout_order(read_documents(documents)))
    assert [position for position, _, _ in order] == list(range(1, len(order) + 1))
    assert [(vendor, step.number) for _, vendor, step in order] == [
        (d["vendor"], s["number"]) for d in documents for s in d["steps"]
    ]
    assert {vendor for _, vendor, _ in order} == {"nftables", "windows"}


def test_step_content_finds_a_step_by_vendor_and_number():
    documents = windows_site_documents()
    host = documents[1]
    found = step_content(documents, vendor="windows", number=2)
    assert found is not None and step_as_dict(found) == host["steps"][1]
    assert step_content(documents, vendor="windows", number=999) is None
    assert step_content(documents, vendor="fortigate", number=1) is None


def test_step_key_and_fingerprint_keep_the_values_stored_on_rollout_steps():
    """Rollout steps store both: a new formula would lose every carried-over state."""
    (document,) = [rendered_as_dict(r) for r in render_site(make_site(), GUIDE_PROFILE).documents]
    for stored, step in zip(document["steps"], rendered_from_dict(document).steps, strict=True):
        assert step_key("generic", step) == f"generic:{stored['kind']}:{stored['title']}"
        material = json.dumps(
            [stored["gui_path"], stored["config"], stored["verify"]], separators=(",", ":")
        )
        assert step_fingerprint(step) == hashlib.sha256(material.encode()).hexdigest()[:16]


def test_unique_warnings_show_a_message_once_across_documents():
    site = make_site(vendor="nftables", host_os="windows", host_addressing="dhcp", **MONITORING)
    documents = render_site(site, GUIDE_PROFILE).documents
    assert len(documents) == 2
    messages = [w.message for w in unique_warnings(documents)]
    assert messages and len(messages) == len(set(messages))
    assert set(messages) == {w.message for d in documents for w in d.warnings}


def test_step_contents_key_every_step_by_vendor_and_number():
    documents = windows_site_documents()
    contents = step_contents(documents)
    assert len(contents) == sum(len(d["steps"]) for d in documents)
    for _, vendor, step in rollout_order(read_documents(documents)):
        assert contents[vendor, step.number] == step
