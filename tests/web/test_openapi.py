"""The OpenAPI document matches the API, and schemathesis finds no 5xx in it."""

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from frontend_service import create_app
from frontend_service.openapi import OPERATIONS


def test_every_api_route_is_documented_and_nothing_else(app, client):
    document = client.get("/api/openapi.json").get_json()
    documented = {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}
    routes = {
        (method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == routes


def test_the_document_is_valid_openapi(client):
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    assert "Storyboard-Input" in document["components"]["schemas"] or "Storyboard" in document["components"]["schemas"]
    schemathesis.openapi.from_dict(document)  # raises on a document that is not OpenAPI


@pytest.fixture
def fuzz_app(adapters):
    # CSRF and rate limits are tested on their own; here they would only hide the handlers.
    return create_app(
        {"TESTING": True, "START_WORKER": False, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}, adapters
    )


@pytest.mark.slow
def test_no_input_makes_a_server_error(fuzz_app):
    # schemathesis' pytest plugin does not run under pytest 9; its strategies do, through Hypothesis.
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", fuzz_app)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]  # an Err fails here
    documented = {f"{method.upper()} {path}" for method, path, *_ in OPERATIONS}
    assert {operation.label for operation in operations} == documented - {"GET /api/openapi.json"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def no_server_error(case):
            case.call_and_validate(checks=[not_a_server_error])

        no_server_error()
