"""`.ci/audit-dependencies`: what it makes of pip-audit's report."""

import importlib.util
import json
import subprocess
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "audit-dependencies"


@pytest.fixture
def audit(monkeypatch):
    """The script's `main`, with pip-audit answering `report` (None: no report)."""
    loader = SourceFileLoader("audit_dependencies", str(SCRIPT))
    spec = importlib.util.spec_from_loader("audit_dependencies", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    monkeypatch.delenv("REQUIRE_AUDIT", raising=False)

    def run(report: dict | None, stderr: str = "") -> int:
        def fake_pip_audit(path: Path) -> subprocess.CompletedProcess:
            if report is not None:
                path.write_text(json.dumps(report))
            return subprocess.CompletedProcess([], 1 if report is None else 0, "", stderr)

        monkeypatch.setattr(module, "run_pip_audit", fake_pip_audit)
        return module.main()

    return run


def clean(name: str = "django", version: str = "5.2.19") -> dict:
    return {"name": name, "version": version, "vulns": []}


def skipped(name: str) -> dict:
    return {
        "name": name,
        "skip_reason": f"Dependency not found on PyPI and could not be audited: {name} (1.0)",
    }


def test_no_known_vulnerability_passes(audit, capsys):
    assert audit({"dependencies": [clean(), clean("whitenoise", "6.12.0")]}) == 0
    assert "2 packages, no known vulnerability" in capsys.readouterr().out


def test_a_known_vulnerability_fails_naming_the_fixed_versions(audit, capsys):
    vulnerable = {
        "name": "django",
        "version": "5.2.1",
        "vulns": [
            {"id": "PYSEC-2025-1", "fix_versions": ["5.2.2"], "aliases": ["CVE-2025-1"]},
        ],
    }

    assert audit({"dependencies": [clean("whitenoise"), vulnerable]}) == 1
    assert (
        "VULNERABLE: django 5.2.1: PYSEC-2025-1 (CVE-2025-1), fixed in: 5.2.2"
        in capsys.readouterr().err
    )


def test_a_package_that_could_not_be_audited_among_others_fails(audit, capsys):
    assert audit({"dependencies": [clean(), skipped("private-package")]}) == 1
    assert "NOT AUDITED" in capsys.readouterr().err


def test_an_unreachable_service_says_the_audit_was_not_done(audit, capsys):
    report = {"dependencies": [skipped("django"), skipped("whitenoise")]}

    assert audit(report) == 0
    assert "DEPENDENCY AUDIT NOT DONE" in capsys.readouterr().err


def test_an_unreachable_service_fails_when_the_audit_is_required(audit, monkeypatch):
    monkeypatch.setenv("REQUIRE_AUDIT", "1")

    assert audit({"dependencies": [skipped("django")]}) == 1
    assert audit(None, stderr="ConnectionError: no route") == 1
