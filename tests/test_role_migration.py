"""The migration to per-dataset roles gives each membership its user's former global role."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("annotate", "0002_workspace")]
AFTER = [("annotate", "0003_dataset_roles")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_global_groups_become_membership_roles():
    old = migrate(BEFORE)
    User, Group = old.get_model("auth", "User"), old.get_model("auth", "Group")
    Dataset = old.get_model("annotate", "Dataset")
    reviewer_group = Group.objects.create(name="reviewer")
    annotator_group = Group.objects.create(name="annotator")
    rev, ann, plain = (User.objects.create(username=n) for n in ("rev", "ann", "plain"))
    rev.groups.add(reviewer_group)
    ann.groups.add(annotator_group)
    a, b = Dataset.objects.create(name="a"), Dataset.objects.create(name="b")
    a.members.add(rev, ann, plain)
    b.members.add(rev)
    try:
        new = migrate(AFTER)
        Membership = new.get_model("annotate", "DatasetMembership")
        roles = {
            (m.dataset.name, m.user.username): m.role
            for m in Membership.objects.select_related("dataset", "user")
        }
        assert roles == {
            ("a", "rev"): "reviewer",
            ("a", "ann"): "annotator",
            ("a", "plain"): "annotator",
            ("b", "rev"): "reviewer",
        }
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
