"""Configuration files in XML (pfSense, OPNsense, PAN-OS), read safely and with line numbers.

defusedxml only: a DTD, an entity declaration (billion laughs) or an external entity is refused
with a clear error before anything is expanded; the size limits of :mod:`limits` apply first.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from sites.analyzer.limits import config_lines
from sites.analyzer.model import ConfigError


class _LineBuilder(TreeBuilder):
    """An ElementTree builder that remembers the line each element starts on."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[int, int] = {}
        self.parser: DefusedXMLParser | None = None

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        element = super().start(tag, attrs)
        if self.parser is not None:
            self.lines[id(element)] = self.parser.parser.CurrentLineNumber
        return element


def parse_config_xml(data: str | bytes, vendor: str) -> tuple[Element, dict[int, int]]:
    """The root element and each element's line, or ``ConfigError`` for hostile or broken XML."""
    text = "\n".join(config_lines(data))
    builder = _LineBuilder()
    parser = DefusedXMLParser(
        target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    builder.parser = parser
    try:
        parser.feed(text.encode("utf-8"))
        root = parser.close()
    except DefusedXmlException as error:
        raise ConfigError(
            f"the XML declares a DTD or entities ({type(error).__name__}), which a {vendor} "
            "configuration never does: refused (entity expansion and external entities are how "
            "hostile XML attacks a reader)"
        ) from None
    except ParseError as error:
        raise ConfigError(f"the file is not well-formed XML: {error}") from None
    return root, builder.lines
