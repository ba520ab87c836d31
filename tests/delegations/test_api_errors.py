"""The API's exception handler with the errors Django itself raises."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from delegations.api.base import exception_handler


def test_a_services_refusal_is_a_403_in_the_apis_error_shape():
    response = exception_handler(PermissionDenied("Only reviewers publish the figures."), {})

    assert response.status_code == 403
    assert response.data == {
        "detail": "Only reviewers publish the figures.",
        "code": "permission_denied",
        "errors": [
            {
                "field": None,
                "message": "Only reviewers publish the figures.",
                "code": "permission_denied",
            }
        ],
    }


def test_a_refusal_without_a_reason_says_the_default():
    response = exception_handler(PermissionDenied(), {})

    assert response.status_code == 403
    assert response.data["code"] == "permission_denied"
    assert response.data["detail"]


def test_a_missing_record_is_a_404_in_the_apis_error_shape():
    response = exception_handler(Http404(), {})

    assert response.status_code == 404
    assert response.data["code"] == "not_found"
