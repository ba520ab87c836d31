"""The shape of the queries behind the lists that grow with the whole expo: each reads
the rows of one delegation tree through the index on the records' delegation, never by
testing every row on record (measured by bench/national_measure.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from delegations.models import Organization
from tests.factories import DelegationFactory, RegistrationFactory

pytestmark = pytest.mark.django_db


def test_organizations_taking_part_are_found_from_the_trees_registrations():
    delegation = DelegationFactory()
    sub = DelegationFactory(
        parent=delegation, name_zh="朝阳区", name_en="Chaoyang", slug="chaoyang"
    )
    other = DelegationFactory(name_zh="上海", name_en="Shanghai", slug="shanghai")
    mine = [RegistrationFactory(delegation=delegation), RegistrationFactory(delegation=sub)]
    RegistrationFactory(delegation=other)
    with CaptureQueriesContext(connection) as captured:
        count = Organization.objects.taking_part(delegation).count()
    assert count == len(mine)
    (sql,) = [query["sql"] for query in captured]
    # From the tree's registrations (`id IN (SELECT organization_id ... delegation_id IN
    # (tree keys))`), not an EXISTS per organization on record joined to the delegations.
    assert '"delegations_organization"."id" IN (SELECT' in sql
    assert "EXISTS" not in sql
    assert "JOIN" not in sql
