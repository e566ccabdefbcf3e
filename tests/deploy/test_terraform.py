"""terraform/: one module, three thin environments, checked offline with python-hcl2."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
import yaml

from infra.bigquery import TABLE, UNIQUE, VIEWS_DIR
from infra.domain import pricing
from infra.settings import Settings
from tests.conftest import ROOT
from tests.deploy.hcl import REFERENCE, RESOURCE_REFERENCE, Folder, first, strings

TERRAFORM = ROOT / "terraform"
MODULE = Folder.load(TERRAFORM / "modules" / "animated_books")
STAGES = ("internal", "beta", "production")
ENVIRONMENTS = {stage: Folder.load(TERRAFORM / "environments" / stage) for stage in STAGES}
RESOURCE_ENV = re.compile(r"\b(ANIMBOOKS_[A-Z0-9_]+)\b")


def module_call(stage: str) -> dict:
    return ENVIRONMENTS[stage].modules["animated_books"]


def module_path(expression: str) -> Path:
    """A path written as "${path.module}/..." or "${local.repo_root}/...", resolved."""
    expression = expression.replace("${local.repo_root}", MODULE.locals["repo_root"])
    expression = expression.replace("${local.views_dir}", MODULE.locals["views_dir"])
    expression = expression.replace("${path.module}", str(MODULE.path))
    return Path(expression).resolve()


def test_every_variable_is_typed_described_and_set_by_every_environment():
    for name, variable in MODULE.variables.items():
        assert variable.get("description", "").strip(), f"{name} needs a description"
        assert "type" in variable, f"{name} needs a type"
        assert "default" not in variable, f"{name}: every stage sets it, so it has no default to drift"
    for stage in STAGES:
        call = module_call(stage)
        assert call["source"] == "../../modules/animated_books"
        assert set(call) - {"source"} == set(MODULE.variables), stage
        assert call["stage"] == stage
        environment = ENVIRONMENTS[stage]
        for name, variable in environment.variables.items():
            assert variable.get("description", "").strip(), f"{stage}: {name} needs a description"
    assert len({json.dumps(e.variables, sort_keys=True) for e in ENVIRONMENTS.values()}) == 1  # the same inputs


def test_every_reference_resolves():
    declared = {
        "var": set(MODULE.variables),
        "local": set(MODULE.locals),
        "data": {name.split(".")[0] for name in MODULE.data},
    }
    for text in strings([MODULE.resources, MODULE.data, MODULE.locals, MODULE.outputs]):
        for kind, name, attribute in REFERENCE.findall(text):
            if kind == "data":
                assert f"{name}.{attribute}" in MODULE.data, text
            else:
                assert name in declared[kind], f"{kind}.{name} in {text!r}"
        for type_, name in RESOURCE_REFERENCE.findall(text):
            assert f"{type_}.{name}" in MODULE.resources, f"{type_}.{name} in {text!r}"
    for stage, environment in ENVIRONMENTS.items():
        for text in strings([environment.modules, environment.providers, environment.outputs]):
            for kind, name, attribute in REFERENCE.findall(text):
                if kind == "var":
                    assert name in environment.variables, (stage, text)
                if kind == "module":
                    assert name in environment.modules and attribute in MODULE.outputs, (stage, text)


def test_state_is_kept_in_a_gcs_bucket_per_stage():
    for stage, environment in ENVIRONMENTS.items():
        [backend] = [block["backend"] for block in environment.terraform if "backend" in block]
        assert first(backend)["gcs"]["prefix"] == f"animated-books/{stage}"


def test_the_render_job_has_an_l4_and_the_shape_the_pricing_assumes():
    job = MODULE.resources["google_cloud_run_v2_job.render"]
    task = first(first(job["template"])["template"])
    assert first(task["node_selector"])["accelerator"] == "nvidia-l4"
    container = first(task["containers"])
    limits = first(container["resources"])["limits"]
    assert limits["nvidia.com/gpu"] == "1"
    assert (limits["cpu"], limits["memory"]) == (str(pricing.JOB_VCPU), f"{pricing.JOB_MEMORY_GIB}Gi")
    assert task["timeout"] == "${var.job_task_timeout_s}s" and task["max_retries"] == "${var.job_max_retries}"
    assert MODULE.locals["common_env"]["ANIMBOOKS_MAX_ATTEMPTS"] == "${tostring(var.job_max_retries + 1)}"
    assert "3600" in first(MODULE.variables["job_task_timeout_s"]["validation"])["condition"]
    for stage in STAGES:
        assert module_call(stage)["job_task_timeout_s"] <= 3600  # Cloud Run's GPU task limit
    [volume] = task["volumes"]
    assert first(volume["gcs"])["read_only"] is True  # weights from a bucket, never the hub
    assert "HF_HUB_OFFLINE" in first(container["dynamic"])["env"]["for_each"]


def test_iap_guards_internal_and_beta_and_production_is_public_without_all_users():
    assert module_call("internal")["iap_enabled"] is True
    assert module_call("beta")["iap_enabled"] is True
    assert module_call("production")["iap_enabled"] is False
    web = MODULE.resources["google_cloud_run_v2_service.web"]
    assert web["iap_enabled"] == "${var.iap_enabled}"
    assert web["invoker_iam_disabled"] == "${!var.iap_enabled}"
    assert "google_iap_web_cloud_run_service_iam_member.site_users" in MODULE.resources
    for path in TERRAFORM.rglob("*.tf"):
        text = path.read_text()
        assert "allUsers" not in text and "allAuthenticatedUsers" not in text, path


def test_the_views_are_exactly_the_files_in_infra_bigquery_views():
    views = MODULE.resources["google_bigquery_table.views"]
    assert views["for_each"] == '${toset([for file in fileset(local.views_dir, "*.sql") : trimsuffix(file, ".sql")])}'
    assert module_path(MODULE.locals["views_dir"]) == VIEWS_DIR.resolve()
    query = first(views["view"])["query"]
    assert 'templatefile("${local.views_dir}/${each.key}.sql"' in query and "use_legacy_sql" in first(views["view"])
    assert views["depends_on"] == ["${google_bigquery_table.usage_events_unique}"]
    unique = MODULE.resources["google_bigquery_table.usage_events_unique"]
    assert unique["table_id"] == UNIQUE  # what the views read: ${project}.${dataset}.usage_events_unique
    assert 'templatefile("${local.repo_root}/infra/bigquery/usage_events_unique.sql"' in first(unique["view"])["query"]
    assert unique["depends_on"] == ["${google_bigquery_table.usage_events}"]
    table = MODULE.resources["google_bigquery_table.usage_events"]
    assert table["table_id"] == TABLE  # what the unique view reads
    schema_file = table["schema"].removeprefix('${file("').removesuffix('")}')
    assert module_path(schema_file) == (ROOT / "infra/bigquery/usage_events.schema.json").resolve()
    assert first(table["time_partitioning"]) == {"type": "DAY", "field": "event_ts"}


def test_usage_events_flow_through_an_avro_topic_into_bigquery():
    topic = MODULE.resources["google_pubsub_topic.usage"]
    assert first(topic["schema_settings"])["encoding"] == "BINARY"
    schema = MODULE.resources["google_pubsub_schema.usage_event"]
    assert schema["type"] == "AVRO"
    avsc = schema["definition"].removeprefix('${file("').removesuffix('")}')
    assert module_path(avsc) == (ROOT / "infra/bigquery/usage_events.avsc").resolve()
    subscription = MODULE.resources["google_pubsub_subscription.usage_to_bigquery"]
    assert first(subscription["bigquery_config"])["use_topic_schema"] is True
    assert topic["name"] == Settings().usage_topic


def test_render_requests_retry_then_dead_letter_into_the_trigger():
    topic = MODULE.resources["google_pubsub_topic.render_requests"]
    assert topic["name"] == Settings().render_requests_topic
    subscription = MODULE.resources["google_pubsub_subscription.render_requests"]
    assert first(subscription["retry_policy"])["minimum_backoff"]
    dead_letter = first(subscription["dead_letter_policy"])
    assert dead_letter["dead_letter_topic"] == "${google_pubsub_topic.render_requests_dead_letter.id}"
    assert "render-trigger" in first(subscription["push_config"])["push_endpoint"]
    targets = {name: value["target"] for name, value in MODULE.locals["trigger_functions"].items()}
    assert targets == {
        "render-trigger": "on_render_request",
        "render-dead-letter": "on_dead_letter",
        "render-sweeper": "sweep_stuck_renders",
    }
    import animate_job.trigger as trigger

    assert all(callable(getattr(trigger, target)) for target in targets.values())
    # The trigger counts the renders in progress, then dispatches: one request at a time, or two
    # deliveries at once both count below the caps and both start a GPU job.
    dispatcher = MODULE.locals["trigger_functions"]["render-trigger"]
    assert (dispatcher["instances"], dispatcher["concurrency"]) == (1, 1)
    trigger_service = first(MODULE.resources["google_cloud_run_v2_service.trigger"]["template"])
    assert trigger_service["max_instance_request_concurrency"] == "${each.value.concurrency}"
    assert first(trigger_service["scaling"])["max_instance_count"] == "${each.value.instances}"
    scheduler = MODULE.resources["google_cloud_scheduler_job.sweeper"]
    assert "render-sweeper" in first(scheduler["http_target"])["uri"]


def test_one_service_account_per_deployable_with_least_privilege():
    accounts = MODULE.resources_of("google_service_account")
    assert {"web", "job", "trigger"} <= set(accounts)
    web = MODULE.resources["google_cloud_run_v2_service.web"]
    assert first(web["template"])["service_account"] == "${google_service_account.web.email}"
    job = first(first(MODULE.resources["google_cloud_run_v2_job.render"]["template"])["template"])
    assert job["service_account"] == "${google_service_account.job.email}"
    trigger = MODULE.resources["google_cloud_run_v2_service.trigger"]
    assert first(trigger["template"])["service_account"] == "${google_service_account.trigger.email}"
    # Project-wide, only Firestore access (it has no finer grant); everything else on one resource.
    assert {body["role"] for body in MODULE.resources_of("google_project_iam_member").values()} == {
        "roles/datastore.user"
    }
    runs_job = MODULE.resources["google_cloud_run_v2_job_iam_member.trigger_runs_the_job"]
    assert (runs_job["role"], runs_job["name"]) == (
        "roles/run.jobsExecutorWithOverrides",
        "${google_cloud_run_v2_job.render.name}",
    )
    assert runs_job["member"] == "${google_service_account.trigger.member}"
    signs = MODULE.resources["google_service_account_iam_member.web_signs_as_itself"]
    assert signs["service_account_id"] == "${google_service_account.web.name}"
    assert signs["member"] == "${google_service_account.web.member}"
    deleter = MODULE.resources["google_project_iam_custom_role.clip_deleter"]
    assert deleter["permissions"] == ["storage.objects.delete"]  # deleting a render deletes its files
    grant = MODULE.resources["google_storage_bucket_iam_member.web_deletes_clips"]
    assert (grant["bucket"], grant["member"]) == (
        "${google_storage_bucket.renders.name}",
        "${google_service_account.web.member}",
    )
    assert "objectAdmin" not in MODULE.text and "roles/owner" not in MODULE.text and "roles/editor" not in MODULE.text


def test_cloud_run_starts_and_keeps_only_a_ready_site(app):
    """The web service's probes ask the app's readiness route, which exists, and the web
    account may do what that check does (see the topic it publishes to)."""
    container = first(first(MODULE.resources["google_cloud_run_v2_service.web"]["template"])["containers"])
    for probe in ("startup_probe", "liveness_probe"):
        path = first(first(container[probe])["http_get"])["path"]
        assert path == "/readyz", probe
        assert app.url_map.bind("localhost").match(path) == ("health.readyz", {})
    sees = MODULE.resources["google_pubsub_topic_iam_member.web_sees_render_requests"]
    assert (sees["topic"], sees["role"], sees["member"]) == (
        "${google_pubsub_topic.render_requests.name}",
        "roles/pubsub.viewer",
        "${google_service_account.web.member}",
    )


def test_the_renders_bucket_is_private_versioned_and_expires_old_versions():
    bucket = MODULE.resources["google_storage_bucket.renders"]
    assert bucket["uniform_bucket_level_access"] is True and bucket["public_access_prevention"] == "enforced"
    assert first(bucket["versioning"])["enabled"] is True
    conditions = [first(rule["condition"]) for rule in bucket["lifecycle_rule"]]
    assert {"days_since_noncurrent_time": "${var.backup_retention_days}", "with_state": "ARCHIVED"} in conditions


def test_firestore_is_native_recoverable_backed_up_and_indexed():
    database = MODULE.resources["google_firestore_database.records"]
    assert database["type"] == "FIRESTORE_NATIVE"
    assert database["point_in_time_recovery_enablement"] == "POINT_IN_TIME_RECOVERY_ENABLED"
    assert "google_firestore_backup_schedule.daily" in MODULE.resources
    indexes = MODULE.resources["google_firestore_index.records"]
    assert "infra/firestore_indexes.json" in indexes["for_each"]
    assert json.loads((ROOT / "infra/firestore_indexes.json").read_text())["indexes"]


def test_every_setting_terraform_passes_is_a_setting_the_code_reads():
    fields = set(Settings.model_fields)
    names = set(MODULE.locals["common_env"])
    for resource in ("google_cloud_run_v2_service.web", "google_cloud_run_v2_job.render"):
        names |= set(RESOURCE_ENV.findall(json.dumps(MODULE.resources[resource])))
    for name in names:
        if name.startswith("ANIMBOOKS_"):
            assert name.removeprefix("ANIMBOOKS_").lower() in fields, name


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_budget_is_the_seed_s_estimate(stage):
    assert module_call(stage)["monthly_budget_usd"] == pricing.STAGE_MONTHLY_USD[stage][1]
    budget = MODULE.resources["google_billing_budget.stage"]
    assert first(first(budget["amount"])["specified_amount"])["units"] == "${tostring(var.monthly_budget_usd)}"


def test_stages_grow_in_capacity_and_protection():
    internal, beta, production = (module_call(stage) for stage in STAGES)
    assert internal["web_instances"]["min"] == 0 and production["web_instances"]["min"] >= 1  # no idle cost / warm
    assert internal["web_instances"]["max"] <= beta["web_instances"]["max"] <= production["web_instances"]["max"]
    assert internal["max_parallel_renders"] <= beta["max_parallel_renders"] <= production["max_parallel_renders"]
    assert production["deletion_protection"] is True
    assert production["backup_retention_days"] > internal["backup_retention_days"]


def test_monitoring_watches_the_site_renders_dead_letters_and_errors():
    assert "google_monitoring_uptime_check_config.site" in MODULE.resources
    alerts = MODULE.locals["alerts"]
    assert {"render_failures", "dead_letters", "server_errors"} <= set(alerts)
    assert "5xx" in alerts["server_errors"]["filter"]
    assert "dead_letter_message_count" in alerts["dead_letters"]["filter"]
    assert "google_monitoring_dashboard.overview" in MODULE.resources


def web_container() -> dict:
    return first(first(MODULE.resources["google_cloud_run_v2_service.web"]["template"])["containers"])


def dynamic_envs(container: dict) -> list[dict]:
    return [block["env"] for block in container["dynamic"] if "env" in block]


def test_admins_are_set_per_stage_from_the_build():
    env = first(dynamic_envs(web_container()))["for_each"]
    assert 'ANIMBOOKS_ADMIN_EMAILS = join(",", var.admin_emails)' in env.replace("  ", " ").replace("    ", " ")
    assert "ANIMBOOKS_ADMIN_EMAILS" in MODULE.variables["admin_emails"]["description"]
    for stage in STAGES:
        assert module_call(stage)["admin_emails"] == "${var.admin_emails}"
        assert ENVIRONMENTS[stage].variables["admin_emails"]["default"] == []  # nobody until the build names them
    build = yaml.safe_load((ROOT / "cloudbuild.yaml").read_text())
    [plan] = [step for step in build["steps"] if step["id"] == "terraform-plan"]
    assert "TF_VAR_admin_emails=${_ADMIN_EMAILS}" in plan["env"] and build["substitutions"]["_ADMIN_EMAILS"] == "[]"
    assert Settings(admin_emails="Ops@Example.com,b@example.com").admin_emails == ["ops@example.com", "b@example.com"]


def test_behind_iap_the_site_checks_assertions_made_for_its_own_service():
    assert MODULE.locals["web_name"] == "animbooks-web"
    assert MODULE.resources["google_cloud_run_v2_service.web"]["name"] == "${local.web_name}"
    assert MODULE.locals["iap_audience"] == (
        "/projects/${data.google_project.this.number}/locations/${var.region}/services/${local.web_name}"
    )
    named = {first(block["content"]).get("name"): block for block in dynamic_envs(web_container())}
    audience = named["ANIMBOOKS_IAP_AUDIENCE"]
    assert audience["for_each"] == "${var.iap_enabled ? [local.iap_audience] : []}"
    assert first(audience["content"])["value"] == "${env.value}"


def test_sign_in_with_google_reads_its_client_from_secret_manager_on_production_only():
    assert module_call("production")["google_sign_in_enabled"] is True
    assert module_call("internal")["google_sign_in_enabled"] is False
    assert module_call("beta")["google_sign_in_enabled"] is False
    secrets = MODULE.locals["google_oauth_secrets"]
    assert set(secrets) == {"ANIMBOOKS_GOOGLE_CLIENT_ID", "ANIMBOOKS_GOOGLE_CLIENT_SECRET"}
    assert {name.removeprefix("ANIMBOOKS_").lower() for name in secrets} <= set(Settings.model_fields)
    secret = MODULE.resources["google_secret_manager_secret.google_oauth"]
    assert "var.google_sign_in_enabled" in secret["for_each"] and secret["secret_id"] == "${each.value}"
    # Their values are added by hand (docs/deploy.md): no version, so never in terraform's state.
    versions = MODULE.resources_of("google_secret_manager_secret_version")
    assert all("google_oauth" not in json.dumps(body) for body in versions.values())
    [from_secrets] = [
        block
        for block in dynamic_envs(web_container())
        if "value_source" in first(block["content"]) and "google_oauth" in json.dumps(block)
    ]
    assert "if var.google_sign_in_enabled" in from_secrets["for_each"]
    reads = MODULE.resources["google_secret_manager_secret_iam_member.web_reads_secrets"]
    assert "google_secret_manager_secret.google_oauth" in reads["for_each"]
    preconditions = first(MODULE.resources["google_cloud_run_v2_service.web"]["lifecycle"])["precondition"]
    assert "${!(var.iap_enabled && var.google_sign_in_enabled)}" in [p["condition"] for p in preconditions]
    for stage in STAGES:
        call = module_call(stage)
        assert not (call["iap_enabled"] and call["google_sign_in_enabled"]), stage


# The spend breaker's cap per stage: the stage's monthly budget over 30 days, cents down.
DAILY_SPEND_CAPS = {"internal": 2.43, "beta": 10.33, "production": 75.66}


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_caps_its_daily_render_spend_at_a_thirtieth_of_its_budget(stage):
    expression = MODULE.locals["daily_spend_cap_usd"]
    assert expression == "${floor(var.monthly_budget_usd * 100 / 30) / 100}"
    monthly = module_call(stage)["monthly_budget_usd"]
    assert math.floor(monthly * 100 / 30) / 100 == DAILY_SPEND_CAPS[stage]
    assert MODULE.locals["common_env"]["ANIMBOOKS_DAILY_SPEND_CAP_USD"] == "${tostring(local.daily_spend_cap_usd)}"


def test_the_web_gets_the_anonymous_allowance_and_the_wait_budget_and_production_keeps_it_small():
    web_env = json.dumps(MODULE.resources["google_cloud_run_v2_service.web"])
    assert "ANIMBOOKS_ANONYMOUS_DAILY_RENDER_QUOTA" in web_env and "var.anonymous_quota" in web_env
    assert "ANIMBOOKS_RENDER_WAIT_BUDGET_S" in web_env and "var.wait_budget_s" in web_env
    common = MODULE.locals["common_env"]
    assert common["ANIMBOOKS_MAX_RENDERS_IN_FLIGHT_PER_PERSON"] == "${tostring(var.renders_per_person)}"
    production = module_call("production")
    assert production["anonymous_quota"] < production["daily_render_quota"]
    # With one GPU there is nothing to hold back; with more, one person never fills them all.
    assert [module_call(stage)["renders_per_person"] for stage in STAGES] == [1, 2, 2]
    assert module_call("production")["renders_per_person"] < production["max_parallel_renders"]


def test_an_alert_fires_when_the_spend_breaker_trips():
    from infra.spending import BREAKER_TRIPPED

    metric = MODULE.resources["google_logging_metric.spend_breaker"]
    assert f'jsonPayload.message=~\\"^{BREAKER_TRIPPED}\\"' in metric["filter"]
    alert = MODULE.locals["alerts"]["spend_breaker"]
    assert "google_logging_metric.spend_breaker.name" in alert["filter"] and alert["threshold"] == 0


def test_firestore_forgets_expired_counters():
    from infra.counters.firestore import COLLECTION

    field = MODULE.resources["google_firestore_field.counters_expire"]
    assert (field["collection"], field["field"]) == (COLLECTION, "expires_at")
    assert "ttl_config" in field


def test_the_telegram_bot_reads_its_token_and_webhook_secret_from_secret_manager_where_the_site_is_public():
    secrets = MODULE.locals["telegram_secrets"]
    assert set(secrets) == {"TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"}
    for name in secrets:  # the names the code reads
        assert Settings.model_fields[name.lower()].validation_alias == name
    secret = MODULE.resources["google_secret_manager_secret.telegram"]
    assert "var.telegram_enabled" in secret["for_each"] and secret["secret_id"] == "${each.value}"
    # The token is added by hand (never in terraform's state); the webhook secret is generated,
    # of the characters setWebhook accepts.
    versions = MODULE.resources_of("google_secret_manager_secret_version")
    assert [name for name, body in versions.items() if "telegram" in json.dumps(body)] == ["telegram_webhook_secret"]
    generated = MODULE.resources["random_password.telegram_webhook_secret"]
    assert generated["special"] is False and 1 <= generated["length"] <= 256
    [from_secrets] = [
        block
        for block in dynamic_envs(web_container())
        if "value_source" in first(block["content"]) and "telegram" in json.dumps(block)
    ]
    assert "if var.telegram_enabled" in from_secrets["for_each"]
    reads = MODULE.resources["google_secret_manager_secret_iam_member.web_reads_secrets"]
    assert "google_secret_manager_secret.telegram" in reads["for_each"]
    preconditions = first(MODULE.resources["google_cloud_run_v2_service.web"]["lifecycle"])["precondition"]
    assert "${!(var.iap_enabled && var.telegram_enabled)}" in [p["condition"] for p in preconditions]
    for stage in STAGES:
        call = module_call(stage)
        assert not (call["iap_enabled"] and call["telegram_enabled"]), stage
    assert module_call("production")["telegram_enabled"] is True


def test_finished_renders_reach_the_bot_by_a_push_of_the_render_events():
    push = MODULE.resources["google_pubsub_subscription.telegram_renders"]
    assert push["topic"] == "${google_pubsub_topic.usage.id}"
    # The attribute infra/usage/pubsub.py sets (python-hcl2 keeps HCL's escapes).
    assert push["filter"].replace('\\"', '"') == 'attributes.kind = "render"'
    endpoint = first(push["push_config"])["push_endpoint"]
    assert endpoint == (
        "${google_cloud_run_v2_service.web.uri}/telegram/renders?token=${random_password.telegram_webhook_secret[0].result}"
    )
    assert "var.telegram_enabled" in push["count"]
