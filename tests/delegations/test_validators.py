import pytest
from django.core.exceptions import ValidationError

from delegations.validators import organization_code_warning, uscc_problem, validate_uscc


@pytest.mark.parametrize("code", ["91440300708461136T", "91110000600037341L", "91310115MA1K3BTP2B"])
def test_valid_credit_codes_pass(code):
    assert uscc_problem(code) is None
    validate_uscc(code)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91440300708461136U", "check character is U but should be T"),
        ("914403007O8461136T", "“O”"),
        ("91440300708461136", "18 characters"),
        ("91AB0300708461136T", "characters 3 to 8 must be digits"),
    ],
)
def test_invalid_credit_codes_name_the_reason(code, reason):
    with pytest.raises(ValidationError) as caught:
        validate_uscc(code)
    assert reason in caught.value.messages[0]
    assert code in caught.value.messages[0]


def test_codes_of_other_registration_authorities_pass_when_the_check_holds():
    from delegations.validators import uscc_check_character

    for first in "NYA":
        body = f"{first}2110000600037341"
        assert uscc_problem(body + uscc_check_character(body)) is None


def test_a_failing_embedded_organization_code_is_only_a_warning():
    from delegations.validators import uscc_check_character

    body = "91110000600037349"  # organization code 60003734-9: its own check is 1
    code = body + uscc_check_character(body)
    assert uscc_problem(code) is None
    assert "60003734" in organization_code_warning(code)
    assert organization_code_warning("91110000600037341L") is None
