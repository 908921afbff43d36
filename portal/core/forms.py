"""Form conventions shared by every view."""

UNPROCESSABLE = 422


class UnprocessableOnInvalidMixin:
    """An invalid form answers 422 with its field errors (htmx swaps it; browsers show it)."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = UNPROCESSABLE
        return response


def add_service_error(form, error) -> None:
    """Show a ``ServiceError`` on the field it names, or on the form when it names none of them."""
    form.add_error(error.field if error.field in form.fields else None, error.message)
