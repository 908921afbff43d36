"""The OpenAPI schema: what drf-spectacular cannot work out by itself."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_array_type, build_basic_type, build_object_type
from drf_spectacular.types import OpenApiTypes


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "portal.api.authentication.BearerTokenAuthentication"
    name = "personalToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token, created at /api/tokens/: "
            "`Authorization: Bearer frp_…`.",
        }


FIELD_ERRORS = build_object_type(
    description="Each field at fault (dotted for nested ones, e.g. `host_interfaces.1.gateway`) "
    "with its messages; what concerns the whole input under `non_field_errors`.",
    additionalProperties=build_array_type(build_basic_type(OpenApiTypes.STR)),
)
DETAIL = build_object_type(
    properties={"detail": build_basic_type(OpenApiTypes.STR)}, required=["detail"]
)

ERRORS = {
    "400": ("Invalid input: every field at fault, with its messages.", FIELD_ERRORS),
    "400-list": (
        "Invalid query: every parameter at fault, with its messages. Each parameter is given "
        "at most once and never empty (leave it out instead); its value keeps to its type, "
        "format or enum.",
        FIELD_ERRORS,
    ),
    "401": ("No credentials, or a bad, unknown or revoked token.", DETAIL),
    "403": ("The permission module refused (e.g. a read-only role writing).", DETAIL),
    "404": ("No such organisation for this caller, or no such object in it.", DETAIL),
}


class PortalAutoSchema(AutoSchema):
    """Adds the error answers every organisation view can give (400 on writes and on lists),
    and names operations without the /o/ of their path ("sites_list", not "o_sites_list")."""

    def get_operation_id(self):
        return super().get_operation_id().removeprefix("o_")

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = ["401", "403", "404"]
        if self.method in ("POST", "PUT", "PATCH"):
            codes.insert(0, "400")
        elif self._is_a_list():
            codes.insert(0, "400-list")
        for code in codes:
            description, schema = ERRORS[code]
            content = {"application/json": {"schema": schema}}
            responses.setdefault(
                code.removesuffix("-list"), {"description": description, "content": content}
            )
        return responses

    def _is_a_list(self) -> bool:
        """A GET that takes query parameters (filters, a page): portal.api.query checks them."""
        return self.method == "GET" and self._is_list_view()
