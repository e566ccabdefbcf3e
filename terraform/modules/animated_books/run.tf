# The web service, the render job on an L4, and the trigger services.

resource "google_cloud_run_v2_service" "web" {
  provider             = google-beta # iap_enabled is in google-beta only, in 6.x
  project              = var.project_id
  name                 = local.web_name
  location             = var.region
  ingress              = "INGRESS_TRAFFIC_ALL"
  launch_stage         = "BETA" # Cloud Run's own IAP integration
  iap_enabled          = var.iap_enabled
  invoker_iam_disabled = !var.iap_enabled # public in production, with no IAM grant to everyone
  deletion_protection  = var.deletion_protection
  labels               = local.labels

  template {
    service_account                  = google_service_account.web.email
    max_instance_request_concurrency = 40
    timeout                          = "60s"

    scaling {
      min_instance_count = var.web_instances.min
      max_instance_count = var.web_instances.max
    }

    containers {
      image = "${local.registry}/web:${var.image_tag}"

      ports {
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = "1"
          memory = "512Mi"
        }
        cpu_idle          = true
        startup_cpu_boost = true
      }

      dynamic "env" {
        for_each = merge(local.common_env, {
          ANIMBOOKS_SECURE_COOKIES     = "true"
          ANIMBOOKS_DAILY_RENDER_QUOTA = tostring(var.daily_render_quota)
          ANIMBOOKS_BIGQUERY_DATASET   = google_bigquery_dataset.usage.dataset_id
          # Google's front end is the one proxy whose X-Forwarded-For entry is the caller.
          ANIMBOOKS_TRUSTED_PROXIES = "1"
          ANIMBOOKS_ADMIN_EMAILS    = join(",", var.admin_emails)
          # Per cookie and per client address at once, for visitors who have not signed in.
          ANIMBOOKS_ANONYMOUS_DAILY_RENDER_QUOTA = tostring(var.anonymous_quota)
          # Past this estimated wait a new render gets the draft preset, unless the person asks to wait.
          ANIMBOOKS_RENDER_WAIT_BUDGET_S = tostring(var.wait_budget_s)
          # The links the Telegram bot sends (edit on the site, a clip's gallery page).
          ANIMBOOKS_SITE_URL = local.web_url
        })
        content {
          name  = env.key
          value = env.value
        }
      }

      # The Telegram bot: its token and webhook secret, and the channel it posts to.
      dynamic "env" {
        for_each = { for name, secret in local.telegram_secrets : name => secret if var.telegram_enabled }
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = google_secret_manager_secret.telegram[env.key].secret_id
              version = "latest"
            }
          }
        }
      }

      dynamic "env" {
        for_each = var.telegram_enabled && var.telegram_channel_id != "" ? [var.telegram_channel_id] : []
        content {
          name  = "TELEGRAM_CHANNEL_ID"
          value = env.value
        }
      }

      # Behind IAP every request must carry IAP's assertion for this service.
      dynamic "env" {
        for_each = var.iap_enabled ? [local.iap_audience] : []
        content {
          name  = "ANIMBOOKS_IAP_AUDIENCE"
          value = env.value
        }
      }

      dynamic "env" {
        for_each = { for name, secret in local.google_oauth_secrets : name => secret if var.google_sign_in_enabled }
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = google_secret_manager_secret.google_oauth[env.key].secret_id
              version = "latest"
            }
          }
        }
      }

      env {
        name = "ANIMBOOKS_SECRET_KEY"
        value_source {
          secret_key_ref {
            secret  = google_secret_manager_secret.session_key.secret_id
            version = "latest"
          }
        }
      }

      dynamic "env" {
        for_each = var.openai_enabled ? [google_secret_manager_secret.openai_api_key.secret_id] : []
        content {
          name = "OPENAI_API_KEY"
          value_source {
            secret_key_ref {
              secret  = env.value
              version = "latest"
            }
          }
        }
      }

      # Readiness (/readyz: records, render queue, clips and usage reachable) gates both:
      # no traffic until every store answers, and an instance that has lost them for
      # 90 s is restarted. /healthz stays the cheap check for the uptime monitor.
      startup_probe {
        initial_delay_seconds = 0
        period_seconds        = 3
        timeout_seconds       = 3
        failure_threshold     = 20
        http_get {
          path = "/readyz"
        }
      }

      liveness_probe {
        period_seconds    = 30
        timeout_seconds   = 10
        failure_threshold = 3
        http_get {
          path = "/readyz"
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = !(var.iap_enabled && var.google_sign_in_enabled)
      error_message = "Behind IAP people are already signed in: turn off google_sign_in_enabled where iap_enabled is on."
    }
    precondition {
      condition     = !(var.iap_enabled && var.telegram_enabled)
      error_message = "Telegram cannot pass IAP to reach the webhook: turn off telegram_enabled where iap_enabled is on."
    }
  }

  depends_on = [
    google_secret_manager_secret_iam_member.web_reads_secrets,
    google_secret_manager_secret_version.session_key,
    google_secret_manager_secret_version.telegram_webhook_secret,
  ]
}

# IAP: its service agent calls the service; the listed members pass IAP.
resource "google_cloud_run_v2_service_iam_member" "iap_invokes_web" {
  count    = var.iap_enabled ? 1 : 0
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.web.name
  role     = "roles/run.invoker"
  member   = local.iap_sa
}

resource "google_iap_web_cloud_run_service_iam_member" "site_users" {
  for_each               = toset(var.iap_enabled ? var.iap_members : [])
  project                = var.project_id
  location               = var.region
  cloud_run_service_name = google_cloud_run_v2_service.web.name
  role                   = "roles/iap.httpsResourceAccessor"
  member                 = each.value
}

resource "google_cloud_run_v2_job" "render" {
  project             = var.project_id
  name                = local.job_name
  location            = var.region
  launch_stage        = "BETA" # GPUs on Cloud Run jobs
  deletion_protection = var.deletion_protection
  labels              = local.labels

  template {
    task_count  = 1
    parallelism = 1

    template {
      service_account               = google_service_account.job.email
      max_retries                   = var.job_max_retries
      timeout                       = "${var.job_task_timeout_s}s"
      gpu_zonal_redundancy_disabled = true # a render can be retried; the cheaper GPU rate

      node_selector {
        accelerator = "nvidia-l4"
      }

      containers {
        image = "${local.registry}/job:${var.image_tag}"

        # Cloud Run's minimum for an L4 (infra/domain/pricing.py prices the same shape).
        resources {
          limits = {
            cpu              = "4"
            memory           = "16Gi"
            "nvidia.com/gpu" = "1"
          }
        }

        dynamic "env" {
          for_each = merge(local.common_env, { HF_HUB_OFFLINE = "1" })
          content {
            name  = env.key
            value = env.value
          }
        }

        volume_mounts {
          name       = "models"
          mount_path = local.models_dir
        }
      }

      volumes {
        name = "models"
        gcs {
          bucket    = google_storage_bucket.models.name
          read_only = true
        }
      }
    }
  }

  depends_on = [google_project_service.apis]
}

locals {
  # functions-framework targets in animate_job/trigger.py, one Cloud Run service each; all
  # HTTP, so the trigger reads the push body as Pub/Sub sends it (deliveryAttempt included).
  # The trigger takes one request at a time in one instance: it counts the renders in progress,
  # then moves one to dispatching, and two deliveries at once would both count below the caps
  # and both start a GPU job. A busy trigger answers 429, and Pub/Sub delivers again later.
  trigger_functions = {
    "render-trigger"     = { target = "on_render_request", signature = "http", instances = 1, concurrency = 1 }
    "render-dead-letter" = { target = "on_dead_letter", signature = "http", instances = 3, concurrency = 80 }
    "render-sweeper"     = { target = "sweep_stuck_renders", signature = "http", instances = 1, concurrency = 1 }
  }
}

resource "google_cloud_run_v2_service" "trigger" {
  for_each            = local.trigger_functions
  project             = var.project_id
  name                = each.key
  location            = var.region
  ingress             = "INGRESS_TRAFFIC_INTERNAL_ONLY" # Pub/Sub push and Cloud Scheduler only
  deletion_protection = var.deletion_protection
  labels              = local.labels

  template {
    service_account                  = google_service_account.trigger.email
    timeout                          = "120s"
    max_instance_request_concurrency = each.value.concurrency

    scaling {
      min_instance_count = 0
      max_instance_count = each.value.instances
    }

    containers {
      image = "${local.registry}/trigger:${var.image_tag}"

      resources {
        limits = {
          cpu    = "1"
          memory = "512Mi"
        }
        cpu_idle = true
      }

      dynamic "env" {
        for_each = merge(local.common_env, {
          FUNCTION_TARGET         = each.value.target
          FUNCTION_SIGNATURE_TYPE = each.value.signature
        })
        content {
          name  = env.key
          value = env.value
        }
      }
    }
  }

  depends_on = [google_project_service.apis]
}

resource "google_cloud_scheduler_job" "sweeper" {
  project          = var.project_id
  name             = "render-sweeper"
  region           = var.region
  description      = "Re-publishes stuck render requests and fails renders past the task timeout."
  schedule         = "*/5 * * * *"
  time_zone        = "Etc/UTC"
  attempt_deadline = "120s"

  http_target {
    http_method = "POST"
    uri         = google_cloud_run_v2_service.trigger["render-sweeper"].uri
    oidc_token {
      service_account_email = google_service_account.invoker.email
      audience              = google_cloud_run_v2_service.trigger["render-sweeper"].uri
    }
  }

  depends_on = [google_project_service.apis]
}
