"""One render pipeline: a site description and a profile to rules and rendered documents."""

from sites.description import GUIDE_PROFILE
from sites.instructions import build_instructions, policy_as_dicts, render_site, rendered_as_dict
from sites.policy import derive_rules
from sites.vendors import RENDERERS, renderers_for_site
from tests.sites.vendors.example_sites import load_example


def test_render_site_renders_what_the_site_needs_by_default():
    site = load_example("multihomed-windows")
    rendered = render_site(site, GUIDE_PROFILE)
    assert rendered.renderers == renderers_for_site(site)
    assert [d.vendor for d in rendered.documents] == ["nftables", "windows"]
    assert rendered.policy == derive_rules(site, GUIDE_PROFILE)


def test_render_site_renders_with_the_renderers_asked_for():
    site = load_example("static-host")
    chosen = [RENDERERS["iptables"], RENDERERS["fortigate"]]
    assert [d.vendor for d in render_site(site, GUIDE_PROFILE, chosen).documents] == [
        "iptables",
        "fortigate",
    ]


def test_build_instructions_stores_what_render_site_rendered():
    site = load_example("monitoring")
    rendered = render_site(site, GUIDE_PROFILE)
    content = build_instructions(site, GUIDE_PROFILE)
    assert content.rendered == rendered.documents
    assert content.documents == [rendered_as_dict(d) for d in rendered.documents]
    assert content.rules == policy_as_dicts(rendered.policy)
    assert content.renderers == [
        {"slug": r.slug, "version": r.renderer_version} for r in rendered.renderers
    ]
