"""`/healthz`: what a load balancer asks every few seconds."""

from unittest import mock

import pytest
from django.db import OperationalError, connections
from django.db.migrations.executor import MigrationExecutor

URL = "/healthz"


def test_healthy_site_answers_200_with_its_checks(client, db):
    response = client.get(URL)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}


def test_the_answer_is_never_cached_and_sets_no_cookie(client, db):
    response = client.get(URL)

    assert "no-cache" in response.headers["Cache-Control"]
    assert "no-store" in response.headers["Cache-Control"]
    assert not response.cookies
    assert "Cookie" not in response.headers.get("Vary", "")


def test_it_is_not_throttled(client, db):
    statuses = {client.get(URL, REMOTE_ADDR="203.0.113.9").status_code for _ in range(30)}

    assert statuses == {200}


def test_an_unapplied_migration_answers_503(client, db):
    plan = [(mock.Mock(name="deals.0099_new"), False)]
    with mock.patch.object(MigrationExecutor, "migration_plan", return_value=plan):
        response = client.get(URL)

    assert response.status_code == 503
    assert response.json() == {
        "status": "fail",
        "checks": {"database": "ok", "migrations": "unapplied"},
    }


def test_a_database_that_cannot_be_reached_answers_503_without_details(client, db):
    refused = OperationalError('connection to server at "10.1.2.3", port 5432 failed')
    with mock.patch.object(connections["default"], "cursor", side_effect=refused):
        response = client.get(URL)

    assert response.status_code == 503
    assert response.json() == {
        "status": "fail",
        "checks": {"database": "unreachable", "migrations": "unknown"},
    }
    assert b"10.1.2.3" not in response.content


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_it_only_answers_reads(client, db, method):
    assert getattr(client, method)(URL).status_code == 405


def test_plain_http_probes_are_answered_when_https_is_enforced(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/").status_code == 301
    assert client.get(URL).status_code == 200
