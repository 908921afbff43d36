"""The error services raise when a request breaks a rule; forms show it on the named field."""


class ServiceError(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
