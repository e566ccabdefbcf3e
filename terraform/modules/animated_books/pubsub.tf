# Render requests: pushed to the trigger, retried with backoff, dead-lettered when the
# deliveries run out. Usage events: Avro-validated, written to BigQuery by a subscription.

resource "google_pubsub_topic" "render_requests" {
  #checkov:skip=CKV_GCP_83:A request carries only a render id; Google-managed encryption is enough.
  project                    = var.project_id
  name                       = "render-requests"
  message_retention_duration = "86400s"
  labels                     = local.labels
  depends_on                 = [google_project_service.apis]
}

resource "google_pubsub_topic" "render_requests_dead_letter" {
  #checkov:skip=CKV_GCP_83:A request carries only a render id; Google-managed encryption is enough.
  project    = var.project_id
  name       = "render-requests-dead-letter"
  labels     = local.labels
  depends_on = [google_project_service.apis]
}

resource "google_pubsub_subscription" "render_requests" {
  project              = var.project_id
  name                 = "render-requests-trigger"
  topic                = google_pubsub_topic.render_requests.id
  ack_deadline_seconds = 60
  labels               = local.labels

  # At the GPU cap the trigger refuses the message; Pub/Sub tries again later.
  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.render_requests_dead_letter.id
    max_delivery_attempts = 20
  }

  push_config {
    push_endpoint = google_cloud_run_v2_service.trigger["render-trigger"].uri
    oidc_token {
      service_account_email = google_service_account.invoker.email
    }
  }

  expiration_policy {
    ttl = ""
  }
}

resource "google_pubsub_subscription" "render_requests_dead_letter" {
  project              = var.project_id
  name                 = "render-requests-dead-letter-trigger"
  topic                = google_pubsub_topic.render_requests_dead_letter.id
  ack_deadline_seconds = 60
  labels               = local.labels

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  push_config {
    push_endpoint = google_cloud_run_v2_service.trigger["render-dead-letter"].uri
    oidc_token {
      service_account_email = google_service_account.invoker.email
    }
  }

  expiration_policy {
    ttl = ""
  }
}

resource "google_pubsub_schema" "usage_event" {
  project    = var.project_id
  name       = "usage-event"
  type       = "AVRO"
  definition = file("${local.repo_root}/infra/bigquery/usage_events.avsc")
  depends_on = [google_project_service.apis]
}

resource "google_pubsub_topic" "usage" {
  #checkov:skip=CKV_GCP_83:Usage events hold ids and counts, no content; Google-managed encryption is enough.
  project = var.project_id
  name    = "usage-events"
  labels  = local.labels

  schema_settings {
    schema   = google_pubsub_schema.usage_event.id
    encoding = "BINARY"
  }
}

resource "google_pubsub_topic" "usage_dead_letter" {
  #checkov:skip=CKV_GCP_83:Usage events hold ids and counts, no content; Google-managed encryption is enough.
  project    = var.project_id
  name       = "usage-events-dead-letter"
  labels     = local.labels
  depends_on = [google_project_service.apis]
}

resource "google_pubsub_subscription" "usage_to_bigquery" {
  project = var.project_id
  name    = "usage-events-bigquery"
  topic   = google_pubsub_topic.usage.id
  labels  = local.labels

  bigquery_config {
    table            = "${var.project_id}.${google_bigquery_dataset.usage.dataset_id}.${google_bigquery_table.usage_events.table_id}"
    use_topic_schema = true
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.usage_dead_letter.id
    max_delivery_attempts = 10
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [google_bigquery_table_iam_member.pubsub_writes_usage]
}

# Events BigQuery refused wait here a week for a look (alerted on in monitoring.tf).
resource "google_pubsub_subscription" "usage_dead_letter" {
  project                    = var.project_id
  name                       = "usage-events-dead-letter-hold"
  topic                      = google_pubsub_topic.usage_dead_letter.id
  message_retention_duration = "604800s"
  labels                     = local.labels

  expiration_policy {
    ttl = ""
  }
}

resource "google_pubsub_topic_iam_member" "pubsub_dead_letters_usage" {
  project = var.project_id
  topic   = google_pubsub_topic.usage_dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_sa
}

resource "google_pubsub_subscription_iam_member" "pubsub_forwards_usage_dead_letters" {
  project      = var.project_id
  subscription = google_pubsub_subscription.usage_to_bigquery.name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_sa
}

# The Telegram bot: each render event pushed to the web service, which tells the render's
# chat and sends the clip (no request waits for a render). The push carries the webhook
# secret, which the endpoint checks; the service is public (production), so no OIDC token.
resource "google_pubsub_subscription" "telegram_renders" {
  count                = var.telegram_enabled ? 1 : 0
  project              = var.project_id
  name                 = "usage-events-telegram-renders"
  topic                = google_pubsub_topic.usage.id
  filter               = "attributes.kind = \"render\""
  ack_deadline_seconds = 60
  labels               = local.labels

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  push_config {
    push_endpoint = "${google_cloud_run_v2_service.web.uri}/telegram/renders?token=${random_password.telegram_webhook_secret[0].result}"
  }

  expiration_policy {
    ttl = ""
  }
}
