from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from cards.models import Card, PrepSettings, Wish
from tests.factories import PersonFactory, WorkspaceFactory


class PrepSettingsFactory(DjangoModelFactory[PrepSettings]):
    class Meta:
        model = PrepSettings

    workspace = factory.SubFactory(WorkspaceFactory)
    alert_days = 3
    group_card = True


class CardFactory(DjangoModelFactory[Card]):
    class Meta:
        model = Card

    workspace = factory.SubFactory(WorkspaceFactory)
    person = factory.LazyAttribute(lambda card: PersonFactory(workspace=card.workspace))
    kind = "birthday"
    day = factory.LazyFunction(lambda: timezone.now().date() + timedelta(days=2))


class WishFactory(DjangoModelFactory[Wish]):
    class Meta:
        model = Wish

    card = factory.SubFactory(CardFactory)
    workspace = factory.SelfAttribute("card.workspace")
    author = factory.LazyAttribute(lambda wish: PersonFactory(workspace=wish.card.workspace))
    text = "Happy birthday!"
