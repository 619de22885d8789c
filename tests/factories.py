"""Factories for tests: real rows in the real PostGIS test database."""

import itertools

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.gis.geos import Point

from components.models import Component, ComponentClass, ComponentState, Organisation, UserProfile
from components.uscc import make_uscc

_serial = itertools.count(1)


def uscc(n: int | None = None) -> str:
    n = next(_serial) if n is None else n
    return make_uscc(f"91370812MA{n:07d}")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("uscc",)

    uscc = factory.LazyFunction(uscc)
    name = factory.Sequence(lambda n: f"兖州测试单位{n}")
    kinds = ["owner", "maintainer"]


class ComponentFactory(factory.django.DjangoModelFactory):
    """Goes through the service, like every real write, so IDs and history are real too."""

    class Meta:
        model = Component

    component_class = factory.LazyFunction(lambda: ComponentClass.objects.get(code="0118"))
    geom = factory.Sequence(lambda n: Point(116.83 + (n % 100) * 0.0004, 35.55 + (n // 100) * 0.0004, srid=4490))
    state = factory.LazyFunction(lambda: ComponentState.objects.get(code="intact"))
    owner = factory.SubFactory(OrganisationFactory)
    maintainer = factory.SubFactory(OrganisationFactory)
    department = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from components.services import create_component

        return create_component(**kwargs)


def make_user(username: str, role: str | None = None, organisation=None, password: str = "test-pass-123"):
    user = get_user_model().objects.create_user(username=username, password=password)
    if role:
        group, _ = Group.objects.get_or_create(name=role)
        user.groups.add(group)
    if organisation is not None:
        UserProfile.objects.create(user=user, organisation=organisation)
    return user
