"""checkov over terraform/, from its own virtual environment (it and python-hcl2 install
the same module name). `make test` creates .venv-checkov; every skip is inline with a
reason."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from tests.conftest import ROOT

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
SKIP = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?")


@pytest.fixture(scope="module")
def report():
    if not CHECKOV.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("checkov is needed in CI: `make test` installs it into .venv-checkov")
        pytest.skip("checkov is not installed here (make test installs it)")
    result = subprocess.run(
        [str(CHECKOV), "-d", "terraform", "--framework", "terraform", "--skip-download", "--output", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.stdout, result.stderr
    report = json.loads(result.stdout)
    return report[0] if isinstance(report, list) else report


def test_checkov_finds_no_failed_check(report):
    failed = [
        f"{check['check_id']} {check['resource']} ({check['file_path']})"
        for check in report["results"]["failed_checks"]
    ]
    assert failed == []
    assert report["summary"]["passed"] > 20  # it did look


def test_every_skip_is_inline_with_a_reason(report):
    for path in (ROOT / "terraform").rglob("*.tf"):
        for match in SKIP.finditer(path.read_text()):
            check, reason = match.groups()
            assert reason and len(reason.strip()) >= 20, f"{path}: skip of {check} needs a reason"
    assert report["summary"]["skipped"] >= 1
