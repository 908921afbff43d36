"""Errors services raise when a request breaks a rule; forms and the API show them per field."""


class ServiceError(Exception):
    """Invalid input. ``errors`` maps each field at fault to its messages ("" = the whole input)."""

    def __init__(self, field: str = "", message: str = "", *, errors: dict | None = None):
        self.errors = errors if errors is not None else {field: [message]}
        summary = "; ".join(
            f"{f}: {' '.join(m)}" if f else " ".join(m) for f, m in self.errors.items()
        )
        super().__init__(summary)

    @property
    def field(self) -> str:
        return next(iter(self.errors))

    @property
    def message(self) -> str:
        return " ".join(self.errors[self.field])
