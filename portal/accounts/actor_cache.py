"""A person's membership grants, kept between requests in the ``actors`` cache.

Building the ``Actor`` of every request cost a query (memberships joined to their organisations);
a page that polls every 1.5 s paid it each time. An entry is tagged with two tokens read in the
same round trip: the person's (renewed whenever one of their memberships is saved or deleted) and
the generation (renewed whenever an organisation is, since grants carry names, slugs and kinds).
An entry whose tag is not current is built again, so a revoked membership is refused on the very
next request. The tokens are renewed at once and again after the commit: a request that read the
old rows while the change was under way tags its entry with the token it read first, which is no
longer current.

Without Redis the ``actors`` cache is a dummy (nothing kept): a cache in one process's memory
could not be told of a change made in another.
"""

from collections.abc import Callable
from uuid import uuid4

from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from portal.accounts.models import Membership, Organisation

ALIAS = "actors"
GENERATION = "actor-grants:generation"
ENTRY_SECONDS = 3600  # an unused entry goes; a used one is checked on every request anyway


def _person_key(user_id: int) -> str:
    return f"actor-grants:person:{user_id}"


def _entry_key(user_id: int) -> str:
    return f"actor-grants:entry:{user_id}"


def cached_grants(user_id: int, load: Callable[[], tuple]) -> tuple:
    """The person's grants from the cache when its tag is current, else ``load()``ed and kept."""
    cache = caches[ALIAS]
    person_key, entry_key = _person_key(user_id), _entry_key(user_id)
    found = cache.get_many([GENERATION, person_key, entry_key])
    tag = (
        found.get(GENERATION) or _first_token(GENERATION),
        found.get(person_key) or _first_token(person_key),
    )
    entry = found.get(entry_key)
    if entry is not None and entry[0] == tag:
        return entry[1]
    grants = load()
    cache.set(entry_key, (tag, grants), ENTRY_SECONDS)
    return grants


def _first_token(key: str) -> str:
    """The token of ``key``, made now if there is none (another process may win: use its)."""
    cache = caches[ALIAS]
    cache.add(key, uuid4().hex, None)
    return cache.get(key) or ""


def _renew(key: str) -> None:
    def renew() -> None:
        caches[ALIAS].set(key, uuid4().hex, None)

    renew()
    transaction.on_commit(renew)


@receiver([post_save, post_delete], sender=Membership, dispatch_uid="actor-cache-membership")
def _membership_changed(sender, instance: Membership, **kwargs) -> None:
    _renew(_person_key(instance.user_id))


@receiver([post_save, post_delete], sender=Organisation, dispatch_uid="actor-cache-organisation")
def _organisation_changed(sender, instance: Organisation, **kwargs) -> None:
    _renew(GENERATION)
