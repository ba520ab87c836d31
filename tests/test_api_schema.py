"""The API's OpenAPI schema: served at /api/schema/, generated without a warning, every
part described; and a property-based run of every operation in it with schemathesis,
which must find no server error and no answer outside the schema."""

from __future__ import annotations

import json
import os
from io import StringIO

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from expo_site.wsgi import application
from tests.factories import REVIEWERS, staff_member
from tests.pages import beijing, populate

pytestmark = pytest.mark.django_db


def test_the_schema_is_served_at_its_stable_address(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert "/api/agreements/" in schema["paths"]
    assert "/api/staff/agreements/{id}/" in schema["paths"]


def test_the_schema_generates_without_a_warning_and_validates():
    out = StringIO()
    # --fail-on-warn turns any warning of drf-spectacular into an error.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out
    )

    assert json.loads(out.getvalue())["info"]["title"] == "Expo delegation records API"


def test_every_operation_parameter_and_response_is_described(client):
    schema = json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/json").content)

    undescribed = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if not operation.get("description"):
                undescribed.append(f"{method} {path}")
            for parameter in operation.get("parameters", []):
                if not parameter.get("description"):
                    undescribed.append(f"{method} {path} ?{parameter['name']}")
            for code, response in operation["responses"].items():
                if not response.get("description"):
                    undescribed.append(f"{method} {path} {code}")
    assert undescribed == []


def test_public_amounts_are_nullable_in_the_schema(client):
    schema = json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/json").content)

    agreement = schema["components"]["schemas"]["PublicAgreement"]["properties"]
    for field in ("amount", "currency", "amount_usd"):
        assert agreement[field].get("nullable") is True, field


def test_the_documentation_page_is_served_without_outside_resources(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assert "cdn." not in page and "unpkg" not in page


# ---------------------------------------------------------------------------------------
# Property-based run of the whole schema
# ---------------------------------------------------------------------------------------


def _generated_schema() -> dict:
    """The schema /api/schema/ serves, generated at import time without a request (which
    would need the database before the tests may use it)."""
    generator = SchemaGenerator()
    return json.loads(OpenApiJsonRenderer().render(generator.get_schema(request=None, public=True)))


# The test command fuzzes every operation with random valid and invalid data.
# SCHEMATHESIS_PHASES=coverage,fuzzing adds the boundary values of every parameter: a
# deeper run of about three minutes a database, worth it before a release.
PHASES = os.environ.get("SCHEMATHESIS_PHASES", "fuzzing").split(",")
CONFIG = SchemathesisConfig.from_str(
    "\n".join(
        f"[phases.{phase}]\nenabled = {'true' if phase in PHASES else 'false'}"
        for phase in ("coverage", "fuzzing", "examples", "stateful")
    )
)
schema = schemathesis.openapi.from_dict(_generated_schema(), config=CONFIG)
schema.app = application

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def connections_kept_open():
    """Schemathesis calls the WSGI application itself, and Django closes the database
    connection after each request, which would end the test's transaction: keep it open
    as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def reviewer_token(settings_fixture, connections_kept_open) -> str:
    """Records to read and a reviewer's token (the widest permissions) to write with."""
    populate(beijing(), 5)
    return Token.objects.create(user=staff_member(REVIEWERS)).key


@pytest.fixture
def settings_fixture(settings):
    # The run sends many requests a minute: no throttling here (tested elsewhere).
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"public": None, "staff": None, "token": None},
    }
    return settings


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_operation_answers_with_a_server_error_or_outside_the_schema(case, reviewer_token):
    headers = {"Authorization": f"Token {reviewer_token}"}
    if case.path == "/api/token/":
        headers = {}
    case.call_and_validate(headers=headers, checks=CHECKS)
