output "site_url" {
  description = "The web service's address."
  value       = google_cloud_run_v2_service.web.uri
}

output "image_registry" {
  description = "Where Cloud Build pushes web:, job: and trigger: images."
  value       = local.registry
}

output "models_bucket" {
  description = "Upload the model weights here (docs/deploy.md)."
  value       = google_storage_bucket.models.name
}

output "renders_bucket" {
  description = "The clips."
  value       = google_storage_bucket.renders.name
}

output "usage_dataset" {
  description = "The BigQuery dataset with the usage table and the report views."
  value       = "${var.project_id}.${google_bigquery_dataset.usage.dataset_id}"
}

output "service_accounts" {
  description = "The service account of each deployable."
  value = {
    web     = google_service_account.web.email
    job     = google_service_account.job.email
    trigger = google_service_account.trigger.email
  }
}
