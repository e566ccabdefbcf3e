# Animated Books on Google Cloud: one module, set per stage by terraform/environments/*.
# The design: ../../../../shared/DESIGN.md; how to deploy: docs/deploy.md.

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  repo_root  = "${path.module}/../../.."
  views_dir  = "${local.repo_root}/infra/bigquery/views"
  registry   = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}"
  labels     = { app = "animated-books", stage = var.stage }
  pubsub_sa  = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  iap_sa     = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-iap.iam.gserviceaccount.com"
  job_name   = "animate-job"
  models_dir = "/models"
  web_name   = "animbooks-web"

  # IAP's signed header names the service it was made for: a Cloud Run service's audience
  # is /projects/NUMBER/locations/REGION/services/NAME (the site checks it, identity.py).
  # The web service's address, as Cloud Run makes it: the links the Telegram bot sends start here.
  web_url      = "https://${local.web_name}-${data.google_project.this.number}.${var.region}.run.app"
  iap_audience = "/projects/${data.google_project.this.number}/locations/${var.region}/services/${local.web_name}"
  # The web service's setting -> the secret that holds it, for sign-in with Google.
  # The web service's Telegram settings -> the secrets that hold them.
  telegram_secrets = {
    TELEGRAM_BOT_TOKEN      = "telegram-bot-token"
    TELEGRAM_WEBHOOK_SECRET = "telegram-webhook-secret"
  }
  google_oauth_secrets = {
    ANIMBOOKS_GOOGLE_CLIENT_ID     = "google-oauth-client-id"
    ANIMBOOKS_GOOGLE_CLIENT_SECRET = "google-oauth-client-secret"
  }

  # The spend breaker's daily cap: a thirtieth of the stage's monthly budget, in whole
  # cents down (73 -> 2.43, 310 -> 10.33, 2,270 -> 75.66 USD a day).
  daily_spend_cap_usd = floor(var.monthly_budget_usd * 100 / 30) / 100

  # What the web service, the job and the trigger all read (infra/settings.py).
  common_env = {
    ANIMBOOKS_MODE                  = "cloud"
    ANIMBOOKS_GCP_PROJECT           = var.project_id
    ANIMBOOKS_GCP_REGION            = var.region
    ANIMBOOKS_RENDERS_BUCKET        = google_storage_bucket.renders.name
    ANIMBOOKS_RENDER_REQUESTS_TOPIC = google_pubsub_topic.render_requests.name
    ANIMBOOKS_USAGE_TOPIC           = google_pubsub_topic.usage.name
    ANIMBOOKS_RENDER_JOB            = local.job_name
    ANIMBOOKS_MAX_ATTEMPTS          = tostring(var.job_max_retries + 1)
    ANIMBOOKS_MAX_PARALLEL_RENDERS  = tostring(var.max_parallel_renders)
    ANIMBOOKS_TASK_TIMEOUT_S        = tostring(var.job_task_timeout_s)
    ANIMBOOKS_MODEL                 = "${local.models_dir}/${var.model_paths.base_model}"
    ANIMBOOKS_MOTION_ADAPTER        = "${local.models_dir}/${var.model_paths.motion_adapter}"
    # The web refuses new renders at the cap; the job logs the line the alert counts when it crosses it.
    ANIMBOOKS_DAILY_SPEND_CAP_USD = tostring(local.daily_spend_cap_usd)
    # The trigger holds one person's renders beyond this in Pub/Sub, so others' renders go by.
    ANIMBOOKS_MAX_RENDERS_IN_FLIGHT_PER_PERSON = tostring(var.renders_per_person)
  }
}

resource "google_project_service" "apis" {
  for_each = toset([
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "billingbudgets.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudscheduler.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "iap.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ])
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

resource "google_artifact_registry_repository" "images" {
  #checkov:skip=CKV_GCP_84:Images hold no customer data; Google-managed encryption is enough.
  project       = var.project_id
  location      = var.region
  repository_id = "animated-books"
  format        = "DOCKER"
  description   = "The web, render job and trigger images, tagged with the commit."
  labels        = local.labels

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 20
    }
  }

  depends_on = [google_project_service.apis]
}
