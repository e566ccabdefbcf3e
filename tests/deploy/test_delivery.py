"""The containers and Cloud Build, checked for what they must hold."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml

from tests.conftest import ROOT

DOCKERFILES = {
    "web": ROOT / "frontend_service" / "Dockerfile",
    "job": ROOT / "animate_job" / "Dockerfile",
    "trigger": ROOT / "animate_job" / "trigger.Dockerfile",
}
SECRETS = re.compile(
    r"(sk-[A-Za-z0-9]{20,}|AIza[0-9A-Za-z_-]{30,}|-----BEGIN|(PASSWORD|SECRET|API_KEY|TOKEN)\s*=)", re.I
)
EXTRAS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]


def instructions(path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", path.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


@pytest.mark.parametrize("name", DOCKERFILES)
def test_each_image_runs_as_a_user_and_holds_no_secret(name):
    steps = instructions(DOCKERFILES[name])
    users = [argument for instruction, argument in steps if instruction == "USER"]
    assert users and users[-1] not in ("root", "0"), "the last USER must not be root"
    assert [i for i, _ in steps].index("USER") > max(i for i, (kind, _) in enumerate(steps) if kind == "RUN")
    assert not SECRETS.search(DOCKERFILES[name].read_text())
    assert not any(kind == "ADD" for kind, _ in steps)  # COPY only: nothing fetched at build


def test_the_web_image_is_slim_with_gunicorn_and_no_torch():
    steps = instructions(DOCKERFILES["web"])
    assert re.fullmatch(r"python:3\.11-slim", steps[0][1])
    assert any("-r locks/web.txt" in argument for kind, argument in steps if kind == "RUN")
    assert "gunicorn" in steps[-1][1] and "frontend_service:create_app()" in steps[-1][1]
    web = " ".join(EXTRAS["web"])
    assert "torch" not in web and "diffusers" not in web


def test_the_job_image_is_cuda_12_torch_offline():
    """Cloud Run's L4 driver is CUDA 12.2: torch is a CUDA 12 build from PyTorch's index."""
    steps = instructions(DOCKERFILES["job"])
    assert re.fullmatch(r"python:3\.11-slim", steps[0][1])
    assert re.fullmatch(r"TORCH_INDEX=https://download\.pytorch\.org/whl/cu12\d", dict(steps)["ARG"])
    environment = " ".join(argument for kind, argument in steps if kind == "ENV")
    assert "HF_HUB_OFFLINE=1" in environment
    assert "GRPC_ENABLE_FORK_SUPPORT=false" in environment  # ffmpeg beside a gRPC client
    assert ("ENTRYPOINT", '["python", "-m", "animate_job"]') in steps and ("CMD", '["run"]') in steps


def test_the_trigger_image_serves_the_trigger_with_what_the_cloud_bootstrap_imports():
    steps = instructions(DOCKERFILES["trigger"])
    assert "functions-framework" in steps[-1][1] and "${FUNCTION_TARGET}" in steps[-1][1]
    assert any("animate_job/trigger.py" in argument for kind, argument in steps if kind == "RUN")
    trigger = " ".join(EXTRAS["trigger"])
    for package in (
        "google-cloud-firestore",
        "google-cloud-storage",
        "google-cloud-pubsub",
        "google-cloud-run",
        "fastavro",
    ):
        assert package in trigger, package
    assert "torch" not in trigger


def test_the_build_context_leaves_out_what_no_image_needs():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".data", "tests", "terraform", "test-artifacts"} <= ignored


def test_cloud_build_tests_then_builds_pushes_and_deploys_one_stage():
    build = yaml.safe_load((ROOT / "cloudbuild.yaml").read_text())
    steps = {step["id"]: step for step in build["steps"]}
    assert list(steps) == [
        "test",
        "build-web",
        "build-job",
        "build-trigger",
        "push",
        "terraform-plan",
        "terraform-apply",
    ]
    assert "make test" in " ".join(steps["test"]["args"])  # the README's test command
    for image, dockerfile in DOCKERFILES.items():
        arguments = steps[f"build-{image}"]["args"]
        assert arguments[arguments.index("-f") + 1] == str(dockerfile.relative_to(ROOT))
        assert f"${{_REGISTRY}}/{image}:${{COMMIT_SHA}}" in arguments
        assert steps[f"build-{image}"]["waitFor"] == ["test"]
        assert f"${{_REGISTRY}}/{image}:${{COMMIT_SHA}}" in " ".join(steps["push"]["args"])
    assert steps["terraform-plan"]["dir"] == steps["terraform-apply"]["dir"] == "terraform/environments/${_STAGE}"
    assert "TF_VAR_image_tag=${COMMIT_SHA}" in steps["terraform-plan"]["env"]
    assert "_STAGE" in build["substitutions"] and "_STATE_BUCKET" in build["substitutions"]
    assert not SECRETS.search((ROOT / "cloudbuild.yaml").read_text())


def test_the_installed_package_carries_its_data_files(tmp_path):
    """The images install the project (not editable): templates, static files, the
    catalogues, the BigQuery schema and views must ride in the wheel."""
    import subprocess
    import sys
    import zipfile

    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "frontend_service/templates/reports.html",
        "frontend_service/static/app.js",
        "frontend_service/translations/ru/LC_MESSAGES/messages.po",
        "infra/firestore_indexes.json",
        "frontend_service/dialogue/vocabulary.json",
        "infra/bigquery/usage_events.schema.json",
        "infra/bigquery/usage_events.avsc",
        "infra/bigquery/usage_events_unique.sql",
    } | {f"infra/bigquery/views/{path.name}" for path in (ROOT / "infra/bigquery/views").glob("*.sql")}
    assert expected <= names, expected - names
