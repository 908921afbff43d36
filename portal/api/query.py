"""The query parameters of a list: each given once and with a value, or left out.

django-filter reads an empty value as "no filter" and DRF's pagination keeps the last of repeated
values, so ``?page=&page=2`` or ``?date_to=`` were answered 200 although the schema forbids them
(an integer, a date, an enum value). A list refuses them with 400 naming each parameter.
"""

from rest_framework import exceptions

REPEATED = "Give this parameter once."
EMPTY = "Give a value, or leave the parameter out."


def list_parameters(view) -> set[str]:
    """The query parameters ``view`` documents: its filters and its paginator's."""
    names = set()
    if filterset_class := getattr(view, "filterset_class", None):
        names.update(filterset_class.base_filters)
    if paginator := view.paginator:
        # A page number, or (sites.api.pagination) a number or a position before or after.
        names.update(getattr(paginator, "query_params", (paginator.page_query_param,)))
    return names


def check_list_parameters(view, query_params) -> None:
    """Raise a 400 (``ValidationError``) naming each documented parameter that is repeated or
    empty; the others are left to the filters and the paginator."""
    errors = {}
    for name in sorted(list_parameters(view)):
        values = query_params.getlist(name)
        if len(values) > 1:
            errors[name] = [REPEATED]
        elif values and values[0].strip() == "":
            errors[name] = [EMPTY]
    if errors:
        raise exceptions.ValidationError(errors)
