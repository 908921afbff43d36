"""The REST API: the same tenancy and permissions as the pages, an OpenAPI 3 schema."""
