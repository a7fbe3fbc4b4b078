import json

import factory
from django.contrib.auth import get_user_model

from annotate.models import Checklist, ChecklistRevision, Dataset, Pair
from metajudge.models import Critic, Judgment


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:  # set_password changed the instance; save it once
            instance.save()


class DatasetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dataset
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"dataset-{n}")


class PairFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pair

    dataset = factory.SubFactory(DatasetFactory)
    key = factory.Sequence(lambda n: f"pair-{n}")
    external_id = factory.SelfAttribute("key")
    position = factory.Sequence(lambda n: n)
    domain = "general"
    language = "english"
    context = factory.LazyFunction(lambda: [{"role": "user", "content": "Write a haiku."}])
    response_1 = "An old silent pond"
    response_2 = "A frog jumps in"
    preference = 1
    preference_strength = -2
    source_format = "rationalerm"
    raw_json = factory.LazyAttribute(
        lambda p: json.dumps({"id": p.key, "response1": p.response_1, "response2": p.response_2})
    )


def checklist_with(pair: Pair, atoms: list[str], *, slot: int = 0, author=None) -> Checklist:
    checklist, _ = Checklist.objects.get_or_create(pair=pair, slot=slot)
    number = checklist.revisions.count() + 1
    revision = ChecklistRevision.objects.create(
        checklist=checklist, number=number, atoms=atoms, author=author, source="import"
    )
    checklist.current = revision
    checklist.version = number
    checklist.status = Checklist.Status.SUBMITTED
    checklist.save()
    return checklist


class CriticFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Critic
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"critic-{n}")


class JudgmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Judgment

    pair = factory.SubFactory(PairFactory)
    critic = factory.SubFactory(CriticFactory)
    label = 1
    atoms = factory.LazyFunction(lambda: ["Response A keeps the 5-7-5 meter."])
    generated_text = "Response A keeps the meter. Final verdict: Response A."


def score_offline(critic: str, dataset: str = "demo") -> None:
    """Score a critic with the offline matcher through the real command, in this process."""
    import io

    from django.core.management import call_command

    call_command(
        "run_metajudge",
        dataset=dataset,
        critic=critic,
        judge_model="offline",
        matcher="offline",
        sync=True,
        stdout=io.StringIO(),
    )


def join(dataset, *users, role: str = "annotator") -> None:
    """Make each user a member of the dataset with this role (roles belong to memberships)."""
    from annotate.services.accounts import membership_set

    for user in users:
        membership_set(dataset=dataset, user=user, role=role)
