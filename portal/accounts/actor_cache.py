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

Organisations by slug (what every page below ``/o/<slug>/`` looks up) are kept in this process's
memory, but only under the generation token the request read from Redis with the grants: an
entry made under another token is loaded again, so a change of any organisation is seen on the
very next request, in every process. Without Redis there is no token and nothing is kept.
"""

import copy
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


def cached_grants(user_id: int, load: Callable[[], tuple]) -> tuple[tuple, str]:
    """The person's grants from the cache when its tag is current, else ``load()``ed and kept;
    and the generation token read with them ("" without a shared cache)."""
    cache = caches[ALIAS]
    person_key, entry_key = _person_key(user_id), _entry_key(user_id)
    found = cache.get_many([GENERATION, person_key, entry_key])
    tag = (
        found.get(GENERATION) or _first_token(GENERATION),
        found.get(person_key) or _first_token(person_key),
    )
    entry = found.get(entry_key)
    if entry is not None and entry[0] == tag:
        return entry[1], tag[0]
    grants = load()
    cache.set(entry_key, (tag, grants), ENTRY_SECONDS)
    return grants, tag[0]


# slug → (generation token, organisation): this process's copies, valid under their token only.
_organisations: dict[str, tuple[str, Organisation]] = {}
ORGANISATIONS_KEPT = 2000  # beyond this many slugs, start again (a bound, not an eviction policy)


def cached_organisation(
    slug: str, generation: str, load: Callable[[], Organisation | None]
) -> Organisation | None:
    """The organisation ``slug`` as ``load()`` returns it, from this process's memory when it was
    loaded under ``generation`` (the token this request read from the shared cache), so a poll
    costs no query for it. Each caller gets its own copy. Nothing is kept without a token."""
    if not generation:
        return load()
    kept = _organisations.get(slug)
    if kept is not None and kept[0] == generation:
        return copy.deepcopy(kept[1])
    organisation = load()
    if organisation is not None:
        if len(_organisations) >= ORGANISATIONS_KEPT:
            _organisations.clear()
        _organisations[slug] = (generation, copy.deepcopy(organisation))
    return organisation


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
