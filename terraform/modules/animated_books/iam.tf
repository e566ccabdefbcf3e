# One service account per deployable, each allowed only what its code does.

resource "google_service_account" "web" {
  project      = var.project_id
  account_id   = "animbooks-web"
  display_name = "Animated Books web service"
}

resource "google_service_account" "job" {
  project      = var.project_id
  account_id   = "animbooks-job"
  display_name = "Animated Books render job"
}

resource "google_service_account" "trigger" {
  project      = var.project_id
  account_id   = "animbooks-trigger"
  display_name = "Animated Books render trigger and sweeper"
}

# The identity Pub/Sub push and Cloud Scheduler present to the trigger services.
resource "google_service_account" "invoker" {
  project      = var.project_id
  account_id   = "animbooks-invoker"
  display_name = "Pub/Sub push and Cloud Scheduler calling the trigger"
}

# Firestore grants at the project level only; each of the three reads and writes records.
resource "google_project_iam_member" "records" {
  for_each = {
    web     = google_service_account.web.member
    job     = google_service_account.job.member
    trigger = google_service_account.trigger.member
  }
  project = var.project_id
  role    = "roles/datastore.user"
  member  = each.value
}

# -- web: publishes render requests and usage, reads clips, signs URLs as itself --------

resource "google_pubsub_topic_iam_member" "web_publishes" {
  for_each = {
    render_requests = google_pubsub_topic.render_requests.name
    usage           = google_pubsub_topic.usage.name
  }
  project = var.project_id
  topic   = each.value
  role    = "roles/pubsub.publisher"
  member  = google_service_account.web.member
}

# The readiness probe checks the render-requests topic is there (pubsub.topics.get).
resource "google_pubsub_topic_iam_member" "web_sees_render_requests" {
  project = var.project_id
  topic   = google_pubsub_topic.render_requests.name
  role    = "roles/pubsub.viewer"
  member  = google_service_account.web.member
}

resource "google_storage_bucket_iam_member" "web_reads_clips" {
  bucket = google_storage_bucket.renders.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.web.member
}

# Deleting a render deletes its files (a noncurrent version stays for the backup days).
resource "google_project_iam_custom_role" "clip_deleter" {
  project     = var.project_id
  role_id     = "animbooksClipDeleter"
  title       = "Animated Books clip deleter"
  description = "Deletes clip objects; granted on the renders bucket only."
  permissions = ["storage.objects.delete"]
}

resource "google_storage_bucket_iam_member" "web_deletes_clips" {
  bucket = google_storage_bucket.renders.name
  role   = google_project_iam_custom_role.clip_deleter.id
  member = google_service_account.web.member
}

# Signed URLs are signed through IAM signBlob, as the web service's own account.
resource "google_service_account_iam_member" "web_signs_as_itself" {
  service_account_id = google_service_account.web.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = google_service_account.web.member
}

resource "google_secret_manager_secret_iam_member" "web_reads_secrets" {
  for_each = merge(
    {
      session = google_secret_manager_secret.session_key.id
      openai  = google_secret_manager_secret.openai_api_key.id
    },
    { for name, secret in google_secret_manager_secret.google_oauth : name => secret.id },
    { for name, secret in google_secret_manager_secret.telegram : name => secret.id },
  )
  secret_id = each.value
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.web.member
}

# -- job: writes clips, reads the weights, publishes usage --------------------------------

resource "google_storage_bucket_iam_member" "job_writes_clips" {
  bucket = google_storage_bucket.renders.name
  role   = "roles/storage.objectCreator"
  member = google_service_account.job.member
}

resource "google_storage_bucket_iam_member" "job_reads_weights" {
  bucket = google_storage_bucket.models.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.job.member
}

resource "google_pubsub_topic_iam_member" "job_publishes_usage" {
  project = var.project_id
  topic   = google_pubsub_topic.usage.name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.job.member
}

# -- trigger: runs the render job with overrides (that job only), re-publishes requests --

resource "google_cloud_run_v2_job_iam_member" "trigger_runs_the_job" {
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_job.render.name
  role     = "roles/run.jobsExecutorWithOverrides"
  member   = google_service_account.trigger.member
}

resource "google_pubsub_topic_iam_member" "trigger_republishes" {
  project = var.project_id
  topic   = google_pubsub_topic.render_requests.name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.trigger.member
}

resource "google_cloud_run_v2_service_iam_member" "invoker_calls_trigger" {
  for_each = google_cloud_run_v2_service.trigger
  project  = var.project_id
  location = var.region
  name     = each.value.name
  role     = "roles/run.invoker"
  member   = google_service_account.invoker.member
}

# -- Google's service agents ---------------------------------------------------------------

# Pub/Sub mints the push subscriptions' OIDC tokens as the invoker.
resource "google_service_account_iam_member" "pubsub_mints_invoker_tokens" {
  service_account_id = google_service_account.invoker.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_sa
}

# Dead-lettering: Pub/Sub moves a message from the subscription to the dead-letter topic.
resource "google_pubsub_topic_iam_member" "pubsub_dead_letters" {
  project = var.project_id
  topic   = google_pubsub_topic.render_requests_dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_sa
}

resource "google_pubsub_subscription_iam_member" "pubsub_forwards_dead_letters" {
  project      = var.project_id
  subscription = google_pubsub_subscription.render_requests.name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_sa
}

# The BigQuery subscription writes usage events into the table.
resource "google_bigquery_table_iam_member" "pubsub_writes_usage" {
  for_each   = toset(["roles/bigquery.dataEditor", "roles/bigquery.metadataViewer"])
  project    = var.project_id
  dataset_id = google_bigquery_dataset.usage.dataset_id
  table_id   = google_bigquery_table.usage_events.table_id
  role       = each.value
  member     = local.pubsub_sa
}
