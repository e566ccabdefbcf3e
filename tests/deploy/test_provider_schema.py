"""terraform/ against the providers' published schemas (tests/deploy/provider_schema.py),
at the lowest and the newest release each version constraint allows. `make test` builds
the schema cache first (make provider-schema); the test itself reads only the cache."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.deploy import provider_schema as ps

FOLDERS = ps.folders()


@pytest.fixture(scope="module", autouse=True)
def schemas_cached():
    missing = [
        f"{source} {version}" for source, version in ps.wanted_schemas() if not ps.cache_path(source, version).exists()
    ]
    if missing:
        message = f"provider schemas not cached ({', '.join(sorted(missing))}): run `make provider-schema`"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.mark.parametrize("end", ["lowest", "newest"])
@pytest.mark.parametrize("folder", FOLDERS, ids=lambda folder: folder.name)
def test_every_block_argument_and_reference_is_in_the_provider_schema(folder, end):
    problems = [str(problem) for problem in ps.check(folder, end)]
    assert problems == []


def test_each_constraint_is_checked_at_a_real_release_on_both_ends():
    for folder in FOLDERS:
        for source, constraint in ps.required_providers(folder).values():
            lowest, newest = ps.range_ends(source, constraint)
            for version in (lowest, newest):
                assert (source, version) in ps.PACKAGES, f"{folder.name}: no schema for {source} {version}"
                assert ps.load(source, version)["version"] == version


def test_the_google_lower_bound_is_the_oldest_release_that_has_everything_used():
    """One release below the lower bound, the module no longer matches: the bound is needed."""
    module = FOLDERS[0]
    below = {str(problem) for problem in ps.check(module, "below")}
    assert below == {
        "terraform/modules/animated_books/run.tf: google_cloud_run_v2_job.render.template.template: "
        "'gpu_zonal_redundancy_disabled': no such argument"
    }


def test_iap_on_the_web_service_exists_only_in_google_beta():
    """Why the web service names provider = google-beta: at both ends, google lacks it."""
    for end in ("lowest", "newest"):
        for source, has_it in (("hashicorp/google", False), ("hashicorp/google-beta", True)):
            version = ps.versions_at(source, "~> 6.47", end)
            arguments = ps.load(source, version)["resource"]["google_cloud_run_v2_service"]["arguments"]
            assert ("iap_enabled" in arguments) is has_it, (source, version)


def test_a_broken_copy_of_the_module_fails(tmp_path):
    copy = tmp_path / "animated_books"
    shutil.copytree(FOLDERS[0], copy)
    run = copy / "run.tf"
    text = run.read_text()
    for old, new in (
        # a misspelt argument
        ('  ingress              = "INGRESS_TRAFFIC_ALL"', '  ingres               = "INGRESS_TRAFFIC_ALL"'),
        # a required argument left out (the job's location)
        ("  name                = local.job_name\n  location            = var.region\n", "  name = local.job_name\n"),
        # a block in the wrong place: the GPU selector inside the container
        (
            '        volume_mounts {\n          name       = "models"',
            '        node_selector {\n          accelerator = "nvidia-l4"\n        }\n\n'
            '        volume_mounts {\n          name       = "models"',
        ),
        # an argument written as a block, and a reference to an attribute that is not there
        (
            "    scaling {\n      min_instance_count = var.web_instances.min",
            "    scaling {\n      min_instance_count = 0",
        ),
        (
            'uri         = google_cloud_run_v2_service.trigger["render-sweeper"].uri',
            'uri = google_cloud_run_v2_service.trigger["render-sweeper"].url',
        ),
    ):
        assert old in text, old
        text = text.replace(old, new, 1)
    text = text.replace("      resources {\n        limits = {", "      resources {\n        limits {", 1)
    run.write_text(text)
    schemas = {
        name: ps.load(source, ps.versions_at(source, constraint, "lowest"))
        for name, (source, constraint) in ps.required_providers(copy).items()
    }
    problems = {str(problem) for problem in ps.check_folder(copy, schemas)}
    assert problems == {
        "run.tf: google_cloud_run_v2_service.web: 'ingres': no such argument",
        "run.tf: google_cloud_run_v2_job.render: the required argument 'location' is missing",
        "run.tf: google_cloud_run_v2_job.render.template.template.containers: 'node_selector': no such block",
        "run.tf: google_cloud_run_v2_service.web.template.containers.resources: 'limits': an argument, not a block",
        "run.tf: google_cloud_run_v2_service.trigger: no attribute 'url'",
    }


def test_a_resource_type_the_provider_lacks_and_an_unknown_data_source_argument_fail(tmp_path):
    copy = tmp_path / "module"
    copy.mkdir()
    shutil.copy(FOLDERS[0] / "versions.tf", copy)
    (copy / "main.tf").write_text(
        'resource "google_cloud_run_v3_service" "web" {\n  name = "x"\n}\n\n'
        'data "google_projects" "these" {\n  filter = "name:x"\n}\n\n'
        'data "google_project" "this" {\n  provider = google-beta\n  project_id = "p"\n  colour = "red"\n}\n'
    )
    schemas = {
        name: ps.load(source, ps.versions_at(source, constraint, "newest"))
        for name, (source, constraint) in ps.required_providers(copy).items()
    }
    problems = {str(problem) for problem in ps.check_folder(copy, schemas)}
    assert problems == {
        "main.tf: google_cloud_run_v3_service.web: no resource type 'google_cloud_run_v3_service' in google",
        "main.tf: data.google_project.this: 'colour': no such argument",
    }


@pytest.mark.parametrize(
    ("constraint", "version", "allowed"),
    [
        ("~> 6.47", "6.47.0", True),
        ("~> 6.47", "6.46.0", False),
        ("~> 6.47", "6.99.0", True),
        ("~> 6.47", "7.0.0", False),
        ("~> 6.47.1", "6.47.9", True),
        ("~> 6.47.1", "6.48.0", False),
        (">= 3.6.0, < 3.8.0", "3.7.2", True),
        (">= 3.6.0, < 3.8.0", "3.8.0", False),
        (">= 3.6.0, < 3.8.0", "3.5.1", False),
    ],
)
def test_version_constraints_read_as_terraform_reads_them(constraint, version, allowed):
    assert ps.allows(constraint, version) is allowed
