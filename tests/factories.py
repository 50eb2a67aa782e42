"""factory-boy factories shared by every test module."""

from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import User
from workspaces.lifecycle import workspace_created_steps_run
from workspaces.models import Invitation, Membership, Person, Role, Workspace

DEFAULT_PASSWORD = "Corr3ct-Horse-Battery"


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    status = User.Status.VERIFIED
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class WorkspaceFactory(DjangoModelFactory[Workspace]):
    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.Sequence(lambda n: f"workspace-{n}")
    timezone = "UTC"

    class Meta:
        model = Workspace
        skip_postgeneration_save = True

    @factory.post_generation
    def _created_steps(obj, create, extracted, **kwargs):
        # A workspace as workspace_create leaves it: the apps above have done their part (its digest).
        if create:
            workspace_created_steps_run(obj)


class MembershipFactory(DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


class PersonFactory(DjangoModelFactory[Person]):
    class Meta:
        model = Person

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    birth_month = 5
    birth_day = 17


class InvitationFactory(DjangoModelFactory[Invitation]):
    class Meta:
        model = Invitation

    workspace = factory.SubFactory(WorkspaceFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.MEMBER
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
