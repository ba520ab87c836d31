"""Production settings: `manage.py check --deploy` passes on the production defaults,
and development stays plain http."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def production_environment(**extra: str) -> dict[str, str]:
    """A production-like environment: DEBUG off, a long random secret, a host name."""
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "expo.example.org",
        "DATABASE_URL": "sqlite://:memory:",
        "NUM_PROXIES": "1",
    }
    environment.update(extra)
    return environment


def manage(*args: str, environment: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def settings_of(environment: dict[str, str], *names: str) -> dict:
    """The values of some settings as the site would compute them in `environment`."""
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}))"
    )
    result = manage("shell", "--no-imports", "-c", code, environment=environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_production_settings_pass_the_deployment_checks():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", environment=production_environment()
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deployment_checks_fail_on_a_weak_setting():
    """The check does look: a short secret and no SSL redirect are reported."""
    environment = production_environment(SECRET_KEY="too-short", SECURE_SSL_REDIRECT="0")

    result = manage("check", "--deploy", "--fail-level", "WARNING", environment=environment)

    assert result.returncode != 0
    assert "security.W009" in result.stderr
    assert "security.W008" in result.stderr


def test_production_is_https_only_behind_the_proxy():
    values = settings_of(
        production_environment(),
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_HSTS_SECONDS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_AGE",
    )

    assert values == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_HSTS_SECONDS": 365 * 24 * 60 * 60,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_AGE": 8 * 60 * 60,
    }


def test_without_a_proxy_no_client_header_is_trusted_for_https():
    values = settings_of(production_environment(NUM_PROXIES="0"), "SECURE_PROXY_SSL_HEADER")

    assert values == {"SECURE_PROXY_SSL_HEADER": None}


def test_development_serves_plain_http():
    environment = production_environment(DEBUG="1", NUM_PROXIES="0")

    values = settings_of(
        environment,
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
    )

    assert values == {
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 0,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
    }


SERVE_STATIC = """
import json
from django.templatetags.static import static
from django.test import Client
answers = {}
for name in ["admin/css/base.css", "css/site.css",
             "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"]:
    url = static(name)
    response = Client().get(url, secure=True, HTTP_HOST="expo.example.org",
                            HTTP_ACCEPT_ENCODING="gzip")
    answers[name] = [url, response.status_code, response.headers.get("Cache-Control"),
                     response.headers.get("Content-Encoding")]
print(json.dumps(answers))
"""


def test_collectstatic_gathers_every_app_and_production_serves_hashed_names(tmp_path):
    """The admin's, the API documentation's and our own static files, under names with
    their content's hash, compressed, served by WhiteNoise and cached for good."""
    environment = production_environment(STATIC_ROOT=str(tmp_path))

    collected = manage("collectstatic", "--noinput", environment=environment)

    assert collected.returncode == 0, collected.stderr
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    assert {"admin/css/base.css", "css/site.css", "css/redoc.css"} <= manifest.keys()
    assert "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" in manifest
    served = manage("shell", "--no-imports", "-c", SERVE_STATIC, environment=environment)
    assert served.returncode == 0, served.stderr
    for name, (url, status, cache_control, encoding) in json.loads(
        served.stdout.splitlines()[-1]
    ).items():
        assert url == f"/static/{manifest[name]}", name
        assert status == 200, name
        assert "immutable" in cache_control, name
        assert encoding == "gzip", name


def test_the_wsgi_application_keeps_its_start_up_out_of_full_collections():
    code = (
        "import gc; before = gc.get_freeze_count(); import expo_site.wsgi; "
        "print(before, gc.get_freeze_count())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=production_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    before, after = map(int, result.stdout.split()[-2:])
    # Django, the apps and the URL configuration: tens of thousands of objects.
    assert before == 0
    assert after > 10_000
