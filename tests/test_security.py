"""Logins and pages as an attacker meets them: login lockout behind the proxy, strong
passwords, the session cookie, and the Content-Security-Policy on every kind of page."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import UserFactory

PASSWORD = "correct-horse-battery-staple"
LOGIN = "/admin/login/"
PROXY = "10.0.0.1"  # the load balancer: every request reaches the site from it


@pytest.fixture
def clerk(db):
    user = UserFactory(username="wang.fang")
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def behind_one_proxy(settings):
    settings.NUM_PROXIES = 1


def log_in(client, password: str, *, client_address: str, claimed: str = "192.0.2.1"):
    """POST the admin's login form through the proxy: the client claims an address of
    its own in X-Forwarded-For, and the proxy appends the one it saw."""
    return client.post(
        LOGIN,
        {"username": "wang.fang", "password": password, "next": "/admin/"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=f"{claimed}, {client_address}",
    )


# --- login lockout ---------------------------------------------------------------------


def test_too_many_wrong_passwords_lock_the_login_out_with_a_clear_page(
    client, clerk, behind_one_proxy
):
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "wrong", client_address="203.0.113.9").status_code == 200, attempt

    locked = log_in(client, "wrong", client_address="203.0.113.9")
    even_right = log_in(client, PASSWORD, client_address="203.0.113.9")

    assert locked.status_code == 429
    assert even_right.status_code == 429
    page = even_right.content.decode()
    assert "This login was refused" in page
    assert "Try again in 15 minutes" in page
    assert "wang.fang" not in page


def test_lockout_counts_the_real_client_not_the_address_it_claims(client, clerk, behind_one_proxy):
    for claimed in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "wrong", client_address="203.0.113.9", claimed=f"192.0.2.{claimed}")

    assert log_in(client, PASSWORD, client_address="203.0.113.9").status_code == 429


def test_lockout_of_one_client_leaves_the_others_behind_the_same_proxy_in(
    client, clerk, behind_one_proxy
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "wrong", client_address="203.0.113.9")

    other = log_in(client, PASSWORD, client_address="198.51.100.7")

    assert other.status_code == 302
    assert other.url == "/admin/"


def test_without_a_proxy_the_claimed_address_is_ignored(client, clerk):
    for claimed in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            LOGIN,
            {"username": "wang.fang", "password": "wrong"},
            REMOTE_ADDR="203.0.113.9",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{claimed}",
        )

    response = client.post(
        LOGIN,
        {"username": "wang.fang", "password": PASSWORD},
        REMOTE_ADDR="203.0.113.9",
        HTTP_X_FORWARDED_FOR="198.51.100.250",
    )

    assert response.status_code == 429


def test_lockout_page_is_translated(client, clerk, behind_one_proxy, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = log_in(client, "wrong", client_address="203.0.113.9")

    assert response.status_code == 429
    assert "分钟后再试" in response.content.decode()


# --- passwords and the session ---------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["short1!", "password12345", "314159265358979", "wang.fang.2019"],
    ids=["too short", "common", "all digits", "like the username"],
)
def test_a_weak_password_is_refused(db, password):
    user = UserFactory.build(username="wang.fang", email="wang.fang@example.org")

    with pytest.raises(ValidationError):
        validate_password(password, user)

    form = AdminUserCreationForm(
        data={"username": "wang.fang", "password1": password, "password2": password}
    )
    assert not form.is_valid()
    assert "password2" in form.errors


def test_a_strong_password_is_accepted(db):
    user = UserFactory.build(username="wang.fang")

    validate_password("mauve-otter-ledger-47", user)


def test_session_cookie_is_httponly_same_site_and_ends_with_the_browser(client, clerk):
    response = client.post(LOGIN, {"username": "wang.fang", "password": PASSWORD})

    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == ""  # a browser-session cookie: gone when it closes
    assert client.session.get_expiry_age() == 8 * 60 * 60


# --- Content-Security-Policy -----------------------------------------------------------


def policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


@pytest.mark.parametrize("url", ["/", "/fairs/", LOGIN, "/api/fairs/", "/api/schema/"])
def test_every_kind_of_page_sends_the_policy(client, db, url):
    response = client.get(url)

    assert response.status_code == 200
    rules = policy(response)
    assert rules["default-src"] == ["'self'"]
    assert rules["script-src"] == ["'self'"]
    assert rules["style-src"] == ["'self'"]
    assert rules["object-src"] == ["'none'"]
    assert rules["frame-ancestors"] == ["'none'"]


def test_back_office_pages_send_the_policy(client, clerk):
    clerk.is_superuser = True
    clerk.save()
    client.force_login(clerk)

    for name in ["admin:index", "admin:deals_agreement_changelist", "admin:deals_agreement_add"]:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert policy(response)["script-src"] == ["'self'"], name


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_api_documentation_allows_inline_styles_but_no_inline_script(client, db, url):
    response = client.get(url)

    assert response.status_code == 200
    rules = policy(response)
    assert rules["script-src"] == ["'self'"]
    assert "'unsafe-inline'" in rules["style-src"]
    assert "<script>" not in response.content.decode()


def test_swagger_ui_start_up_script_is_served_as_a_script(client, db):
    response = client.get("/api/docs/?script=")

    assert response.status_code == 200
    assert "SwaggerUIBundle" in response.content.decode()


# --- templates -------------------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<[^>]+\sstyle\s*=|<style\b", re.IGNORECASE)


def our_templates() -> list[Path]:
    base = Path(settings.BASE_DIR)
    directories = [base / "templates", *base.glob("*/templates")]
    return sorted(path for directory in directories for path in directory.rglob("*.html"))


def test_the_template_scan_sees_our_templates():
    names = {path.name for path in our_templates()}

    assert {"base.html", "home.html", "locked_out.html"} <= names


@pytest.mark.parametrize(
    ("pattern", "what"),
    [
        (INLINE_SCRIPT, "an inline <script>"),
        (INLINE_HANDLER, "an inline event handler"),
        (INLINE_STYLE, "an inline style"),
    ],
)
def test_no_template_has_what_the_policy_refuses(pattern, what):
    found = [
        f"{path.relative_to(settings.BASE_DIR)}:{text[: match.start()].count(chr(10)) + 1}"
        for path in our_templates()
        for text in [path.read_text(encoding="utf-8")]
        for match in pattern.finditer(text)
    ]

    assert found == [], f"{what} in {found}"


def test_wrong_passwords_at_the_api_token_endpoint_count_towards_the_lockout(
    client, clerk, settings
):
    """The API's token endpoint is another door to the same passwords: its failures
    count (its own request transaction must not roll them back), and a locked-out
    username gets no token either."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "token": "1000/minute",
        },
    }
    for _ in range(settings.AXES_FAILURE_LIMIT):
        refused = client.post(
            "/api/token/", {"username": "wang.fang", "password": "wrong"}, REMOTE_ADDR="203.0.113.9"
        )
        assert refused.status_code == 400

    token = client.post(
        "/api/token/", {"username": "wang.fang", "password": PASSWORD}, REMOTE_ADDR="203.0.113.9"
    )
    admin_login = client.post(
        LOGIN, {"username": "wang.fang", "password": PASSWORD}, REMOTE_ADDR="203.0.113.9"
    )

    assert token.status_code == 400
    assert "token" not in token.json()
    assert admin_login.status_code == 429
