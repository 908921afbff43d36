import pytest
from django.test import Client


@pytest.fixture
def admin(world) -> Client:
    """The customer's admin: may view and edit the customer's site."""
    client = Client()
    client.force_login(world.people["customer_admin"])
    return client


@pytest.fixture
def operator(world) -> Client:
    """The provider's operator: sees every site and runs bulk jobs."""
    client = Client()
    client.force_login(world.people["operator"])
    return client
