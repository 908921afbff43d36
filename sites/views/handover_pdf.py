"""The instructions as a PDF to print or hand over: the handover's header and numbering, the
site's diagram, and every step, laid out for A4 paper (WeasyPrint).

The HTML is rendered from a Django template, so every text a customer typed is escaped; the
renderer fetches nothing (``_no_fetching``): the diagram is inline SVG, the fonts are the
system's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from sites.instructions.handover import Handover, document_heading, numbered_steps
from sites.vendors.base import Rendered


class PdfUnavailable(Exception):
    """WeasyPrint cannot run here (its system libraries, Pango, are missing)."""


def _no_fetching(url: str, *args, **kwargs):
    raise ValueError(f"The handover PDF fetches nothing ({url[:60]!r} refused).")


def _static_css(name: str) -> str:
    path = finders.find(f"css/{name}")
    return Path(str(path)).read_text() if path else ""


def _print_diagram_css() -> str:
    """The diagram's stylesheet, the same file the site page links, for the SVG's own <style>
    (WeasyPrint styles an inline SVG from that only); without the labels' white halo, which
    WeasyPrint paints over the text (it has no ``paint-order``)."""
    return _static_css("diagram.css") + "\n.diagram .arrow text{stroke:none}"


def handover_pdf(documents: Sequence[Rendered], about: Handover, *, diagram: str) -> bytes:
    """The PDF of one version's instructions (``diagram``: the site page's SVG)."""
    try:
        from weasyprint import CSS, HTML
    except OSError as error:  # the Python package is there, the shared libraries are not
        raise PdfUnavailable(str(error)) from None
    html = render_to_string(
        "sites/handover_pdf.html",
        {
            "about": about,
            "diagram": diagram.replace("<defs>", f"<defs><style>{_print_diagram_css()}</style>", 1),
            "documents": [
                {"heading": document_heading(document), "document": document, "steps": steps}
                for document, steps in numbered_steps(documents)
            ],
        },
    )
    layout = CSS(string=_static_css("handover-pdf.css"), url_fetcher=_no_fetching)
    return HTML(string=html, url_fetcher=_no_fetching).write_pdf(stylesheets=[layout])
