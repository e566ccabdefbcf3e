# An uptime check on the site, alerts on failed renders, dead letters and 5xx, a dashboard.

resource "google_monitoring_notification_channel" "email" {
  project      = var.project_id
  display_name = "Animated Books ${var.stage} alerts"
  type         = "email"
  labels = {
    email_address = var.alert_email
  }
  depends_on = [google_project_service.apis]
}

resource "google_monitoring_uptime_check_config" "site" {
  project      = var.project_id
  display_name = "Animated Books ${var.stage} /healthz"
  timeout      = "10s"
  period       = "300s"

  http_check {
    path         = "/healthz"
    port         = 443
    use_ssl      = true
    validate_ssl = true
    # Behind IAP an anonymous check gets IAP's redirect: the front door answers.
    dynamic "accepted_response_status_codes" {
      for_each = var.iap_enabled ? ["STATUS_CLASS_2XX", "STATUS_CLASS_3XX"] : ["STATUS_CLASS_2XX"]
      content {
        status_class = accepted_response_status_codes.value
      }
    }
  }

  monitored_resource {
    type = "uptime_url"
    labels = {
      project_id = var.project_id
      host       = trimprefix(google_cloud_run_v2_service.web.uri, "https://")
    }
  }
}

# The job logs one ERROR line per failed attempt (animate_job/run.py).
resource "google_logging_metric" "render_failures" {
  project     = var.project_id
  name        = "animbooks/render_failures"
  description = "Render attempts that failed."
  filter      = "resource.type=\"cloud_run_job\" AND resource.labels.job_name=\"${local.job_name}\" AND severity>=ERROR"
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
  }
}

# The job logs one line starting "spend breaker tripped" when a render's cost carries the
# day's spend across the cap (infra/spending.py, BREAKER_TRIPPED).
resource "google_logging_metric" "spend_breaker" {
  project     = var.project_id
  name        = "animbooks/spend_breaker_trips"
  description = "The day's render spend reached the daily cap: new renders are refused until 00:00 UTC."
  filter      = "resource.type=\"cloud_run_job\" AND resource.labels.job_name=\"${local.job_name}\" AND jsonPayload.message=~\"^spend breaker tripped\""
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
  }
}

locals {
  alerts = {
    spend_breaker = {
      name      = "The day's render spend reached its cap"
      filter    = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.spend_breaker.name}\" AND resource.type=\"cloud_run_job\""
      threshold = 0
      window    = "300s"
    }
    render_failures = {
      name      = "Renders are failing"
      filter    = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.render_failures.name}\" AND resource.type=\"cloud_run_job\""
      threshold = 3
      window    = "1800s"
    }
    dead_letters = {
      name      = "Render requests reach the dead-letter topic"
      filter    = "metric.type=\"pubsub.googleapis.com/subscription/dead_letter_message_count\" AND resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${google_pubsub_subscription.render_requests.name}\""
      threshold = 0
      window    = "300s"
    }
    usage_dead_letters = {
      name      = "Usage events BigQuery refused"
      filter    = "metric.type=\"pubsub.googleapis.com/subscription/dead_letter_message_count\" AND resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${google_pubsub_subscription.usage_to_bigquery.name}\""
      threshold = 0
      window    = "300s"
    }
    server_errors = {
      name      = "The site answers 5xx"
      filter    = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${google_cloud_run_v2_service.web.name}\" AND metric.labels.response_code_class=\"5xx\""
      threshold = 5
      window    = "300s"
    }
  }
}

resource "google_monitoring_alert_policy" "alerts" {
  for_each              = local.alerts
  project               = var.project_id
  display_name          = "Animated Books ${var.stage}: ${each.value.name}"
  combiner              = "OR"
  notification_channels = [google_monitoring_notification_channel.email.id]

  conditions {
    display_name = each.value.name
    condition_threshold {
      filter          = each.value.filter
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = "0s"
      aggregations {
        alignment_period     = each.value.window
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }
}

resource "google_monitoring_dashboard" "overview" {
  project = var.project_id
  dashboard_json = jsonencode({
    displayName = "Animated Books ${var.stage}"
    gridLayout = {
      columns = 2
      widgets = [
        for title, filter in {
          "Site requests by response class" = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${google_cloud_run_v2_service.web.name}\""
          "Site latency (p95)"              = "metric.type=\"run.googleapis.com/request_latencies\" AND resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${google_cloud_run_v2_service.web.name}\""
          "Render failures"                 = local.alerts.render_failures.filter
          "Render job executions"           = "metric.type=\"run.googleapis.com/job/completed_execution_count\" AND resource.type=\"cloud_run_job\" AND resource.labels.job_name=\"${local.job_name}\""
          "Render requests waiting"         = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${google_pubsub_subscription.render_requests.name}\""
          "Dead letters"                    = local.alerts.dead_letters.filter
          } : {
          title = title
          xyChart = {
            dataSets = [{
              timeSeriesQuery = {
                timeSeriesFilter = {
                  filter      = filter
                  aggregation = { alignmentPeriod = "300s", perSeriesAligner = "ALIGN_DELTA" }
                }
              }
              plotType = "LINE"
            }]
          }
        }
      ]
    }
  })
}
