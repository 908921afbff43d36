"""Who is acting, from where, in which request: carried in context variables.

The request middleware (web), the Celery task signals (worker) and management commands (command)
fill it in; ``portal.audit.services.record_event`` reads it, so services need not pass it around.
"""

import uuid
from contextvars import ContextVar
from dataclasses import dataclass, replace


class Source:
    WEB = "web"
    API = "api"
    WORKER = "worker"
    COMMAND = "command"
    SYSTEM = "system"

    CHOICES = [
        (WEB, "Web"),
        (API, "API"),
        (WORKER, "Worker"),
        (COMMAND, "Command"),
        (SYSTEM, "System"),
    ]


@dataclass(frozen=True)
class AuditContext:
    source: str = Source.SYSTEM
    request_id: str = ""
    ip_address: str | None = None
    user_id: int | None = None
    actor_label: str = ""


# AuditContext is frozen, so one shared default cannot be changed through the variable.
_current: ContextVar[AuditContext] = ContextVar(
    "audit_context",
    default=AuditContext(),  # noqa: B039
)


def current() -> AuditContext:
    return _current.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


def begin(**fields) -> None:
    _current.set(AuditContext(**fields))


def update(**fields) -> None:
    _current.set(replace(_current.get(), **fields))


def clear_context() -> None:
    _current.set(AuditContext())


def begin_worker_context(*, task_id: str | None) -> None:
    begin(source=Source.WORKER, request_id=task_id or new_request_id(), actor_label="worker")


def begin_command_context(*, name: str) -> None:
    begin(source=Source.COMMAND, request_id=new_request_id(), actor_label=f"command:{name}")
