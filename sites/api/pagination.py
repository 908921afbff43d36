"""Pages of the sites API's list that cost the same at any depth (issue #15: at 100,000 sites an
offset page 1,000 took 367 ms, and a script reading every page paid that for each one).

The order is the dashboard's default (organisation name, then site name; ``Ordering``). The
response keeps its shape (``count``, ``next``, ``previous``, ``results``): ``count`` stops at
``COUNT_CAP`` + 1 and ``count_is_capped`` says when; ``next`` and ``previous`` carry the position
of the page's last or first site (``after``/``before``), so that following them reaches every
site, each page one range of an index; ``page=N`` still reaches the first ``OFFSET_PAGES``."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from sites.selectors.dashboard import (
    COUNT_CAP,
    OFFSET_PAGES,
    PAGE_SIZE,
    Ordering,
    capped_count,
    read_slice,
)

NOT_A_POSITION = "Not a position in this list: follow the next and previous links as given."


class SitePagination(BasePagination):
    page_query_param = "page"
    query_params = ("page", "after", "before")  # what portal.api.query checks

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.ordering = Ordering.of("")
        sites = self.ordering.annotate(queryset)
        offset, position, backwards = self._where(request.query_params)
        self.count = capped_count(sites)
        self.slice = read_slice(
            sites, self.ordering, position=position, backwards=backwards, offset=offset
        )
        return self.slice.rows

    def _where(self, params) -> tuple[int, list | None, bool]:
        """(offset, position, backwards) from the query; a 400 naming the parameter when one is
        not usable."""
        given = [name for name in self.query_params if name in params]
        if len(given) > 1:
            raise exceptions.ValidationError(
                {name: [f"Give one of {', '.join(self.query_params)}."] for name in given}
            )
        if "page" in given:
            text = params["page"]
            if not text.isdigit() or not 1 <= int(text) <= OFFSET_PAGES:
                raise exceptions.ValidationError(
                    {
                        "page": [
                            f"A page number from 1 to {OFFSET_PAGES}; further pages are reached "
                            "by the next links."
                        ]
                    }
                )
            return (int(text) - 1) * PAGE_SIZE, None, False
        for name in ("after", "before"):
            if name in given:
                try:
                    position = self.ordering.read_position(params[name])
                except ValueError:
                    raise exceptions.ValidationError({name: [NOT_A_POSITION]}) from None
                return 0, position, name == "before"
        return 0, None, False

    def _link(self, param: str, site) -> str:
        url = self.request.build_absolute_uri()
        for name in self.query_params:
            url = remove_query_param(url, name)
        return replace_query_param(url, param, self.ordering.position_of(vars(site)))

    def get_next_link(self) -> str | None:
        return self._link("after", self.slice.rows[-1]) if self.slice.has_next else None

    def get_previous_link(self) -> str | None:
        return self._link("before", self.slice.rows[0]) if self.slice.has_previous else None

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.count,
                "count_is_capped": self.count > COUNT_CAP,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["count", "count_is_capped", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "description": f"How many sites match, counted up to {COUNT_CAP + 1:,}.",
                },
                "count_is_capped": {
                    "type": "boolean",
                    "description": f"More than {COUNT_CAP:,} sites match: `count` stopped.",
                },
                "next": {**link, "description": "The next page (`after` a position)."},
                "previous": {**link, "description": "The page before (`before` a position)."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        position = {"type": "string", "minLength": 1, "maxLength": 2000}
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "description": f"A page number, for the first {OFFSET_PAGES} pages of "
                f"{PAGE_SIZE}; the others are reached by the next links.",
                "schema": {"type": "integer", "minimum": 1, "maximum": OFFSET_PAGES},
            },
            {
                "name": "after",
                "in": "query",
                "required": False,
                "description": "The page after a position, as a next link carries it.",
                "schema": position,
            },
            {
                "name": "before",
                "in": "query",
                "required": False,
                "description": "The page before a position, as a previous link carries it.",
                "schema": position,
            },
        ]
