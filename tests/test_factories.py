"""Every model has a factory, and each factory makes a valid row."""

import pytest
from django.apps import apps

from tests import factories

pytestmark = pytest.mark.django_db

# Every app of this repository (portal.* and sites), not Django's or a library's.
PROJECT_APPS = {
    config.label
    for config in apps.get_app_configs()
    if config.name == "sites" or config.name.startswith("portal.")
}


def factory_models():
    return {
        f._meta.model
        for f in vars(factories).values()
        if isinstance(f, type)
        and issubclass(f, factories.factory.django.DjangoModelFactory)
        and f._meta.model is not None
    }


def test_every_project_model_has_a_factory():
    models = {m for m in apps.get_models() if m._meta.app_label in PROJECT_APPS}
    assert models <= factory_models(), models - factory_models()


@pytest.mark.parametrize(
    "name",
    sorted(
        n
        for n, f in vars(factories).items()
        if isinstance(f, type)
        and issubclass(f, factories.factory.django.DjangoModelFactory)
        and f._meta.model is not None
    ),
)
def test_each_factory_makes_a_valid_row(name):
    instance = getattr(factories, name)()
    instance.full_clean(exclude=["password", "token"])
