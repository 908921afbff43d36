"""The four requests every page-or-partial view answers (``portal.core.htmx``): an htmx request
gets the partial, a plain request and htmx's history restore (it re-fetches a page it kept no
snapshot of) the whole page, and every answer varies on HX-Request."""

from django.test import Client

PARTIAL = {"HX-Request": "true"}
HISTORY_RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
WHOLE_PAGE = b"<html"


def assert_page_or_partial(client: Client, url: str, marker: str, *, partial_status=200) -> None:
    """``marker`` is in the partial (and so in the page too)."""
    partial = client.get(url, headers=PARTIAL)
    assert partial.status_code == partial_status
    assert marker.encode() in partial.content and WHOLE_PAGE not in partial.content

    for headers in ({}, HISTORY_RESTORE):
        page = client.get(url, headers=headers)
        assert page.status_code == 200, headers
        assert WHOLE_PAGE in page.content and marker.encode() in page.content, headers

    for headers in ({}, PARTIAL, HISTORY_RESTORE):
        assert "HX-Request" in client.get(url, headers=headers)["Vary"], headers
