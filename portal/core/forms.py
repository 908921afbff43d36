"""Form conventions shared by every view."""

UNPROCESSABLE = 422


class UnprocessableOnInvalidMixin:
    """An invalid form answers 422 with its field errors (htmx swaps it; browsers show it)."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = UNPROCESSABLE
        return response


def add_service_error(form, error) -> None:
    """Show a ``ServiceError``'s messages on the fields they name, else on the form as a whole."""
    for field, messages in error.errors.items():
        # "outbound_ports.0.port" belongs to the form's "outbound_ports" input.
        name = field if field in form.fields else field.split(".", 1)[0]
        for message in messages:
            if name in form.fields:
                form.add_error(name, message if name == field else f"{field}: {message}")
            else:
                form.add_error(None, f"{field}: {message}" if field else message)
