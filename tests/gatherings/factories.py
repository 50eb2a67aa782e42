"""Factories for the gatherings app (also found by the tenancy walk in tests/test_tenancy.py)."""

import factory
from factory.django import DjangoModelFactory

from events.models import EventKind
from gatherings.models import Comment, CostLedger, EventFile, Expense, Settlement, Task
from tests.events.factories import EventFactory
from tests.factories import PersonFactory, WorkspaceFactory


class GatheringFactory(EventFactory):
    kind = EventKind.GATHERING


class CostLedgerFactory(DjangoModelFactory[CostLedger]):
    class Meta:
        model = CostLedger

    workspace = factory.SubFactory(WorkspaceFactory)
    event = factory.SubFactory(GatheringFactory, workspace=factory.SelfAttribute("..workspace"))
    currency = "EUR"


class ExpenseFactory(DjangoModelFactory[Expense]):
    class Meta:
        model = Expense

    workspace = factory.SubFactory(WorkspaceFactory)
    event = factory.SubFactory(GatheringFactory, workspace=factory.SelfAttribute("..workspace"))
    description = factory.Sequence(lambda n: f"Expense {n}")
    amount_minor = 1000
    paid_by = factory.SubFactory(PersonFactory, workspace=factory.SelfAttribute("..workspace"))


class SettlementFactory(DjangoModelFactory[Settlement]):
    class Meta:
        model = Settlement

    workspace = factory.SubFactory(WorkspaceFactory)
    event = factory.SubFactory(GatheringFactory, workspace=factory.SelfAttribute("..workspace"))
    payer = factory.SubFactory(PersonFactory, workspace=factory.SelfAttribute("..workspace"))
    payee = factory.SubFactory(PersonFactory, workspace=factory.SelfAttribute("..workspace"))
    amount_minor = 500


class TaskFactory(DjangoModelFactory[Task]):
    class Meta:
        model = Task

    workspace = factory.SubFactory(WorkspaceFactory)
    event = factory.SubFactory(GatheringFactory, workspace=factory.SelfAttribute("..workspace"))
    title = factory.Sequence(lambda n: f"Task {n}")


class CommentFactory(DjangoModelFactory[Comment]):
    class Meta:
        model = Comment

    workspace = factory.SubFactory(WorkspaceFactory)
    event = factory.SubFactory(GatheringFactory, workspace=factory.SelfAttribute("..workspace"))
    author_person = factory.SubFactory(PersonFactory, workspace=factory.SelfAttribute("..workspace"))
    body = "Looking forward to it"


class EventFileFactory(DjangoModelFactory[EventFile]):
    class Meta:
        model = EventFile

    workspace = factory.SubFactory(WorkspaceFactory)
    event = factory.SubFactory(GatheringFactory, workspace=factory.SelfAttribute("..workspace"))
    kind = "pdf"
    content_type = "application/pdf"
    name = "notes.pdf"
    file = factory.django.FileField(filename="notes.pdf", data=b"%PDF-1.4\n%%EOF\n")
    size = 15
