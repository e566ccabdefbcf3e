# The usage table and its views, from the files the local reports run too
# (infra/bigquery): the schema, the view that keeps each event once, and one report view
# per views/*.sql on top of it.

resource "google_bigquery_dataset" "usage" {
  #checkov:skip=CKV_GCP_81:Usage events hold ids, counts and costs; Google-managed encryption is enough.
  project                    = var.project_id
  dataset_id                 = "usage"
  location                   = var.data_location.bigquery
  description                = "Animated Books usage events and the cost and usage views Looker Studio reads."
  delete_contents_on_destroy = false
  labels                     = local.labels
  depends_on                 = [google_project_service.apis]
}

resource "google_bigquery_table" "usage_events" {
  #checkov:skip=CKV_GCP_80:Usage events hold ids, counts and costs; Google-managed encryption is enough.
  project             = var.project_id
  dataset_id          = google_bigquery_dataset.usage.dataset_id
  table_id            = "usage_events"
  description         = "One row per usage event, written by the usage-events BigQuery subscription (at least once)."
  schema              = file("${local.repo_root}/infra/bigquery/usage_events.schema.json")
  deletion_protection = true # the cost history outlives any stage's teardown
  clustering          = ["kind", "user_id"]
  labels              = local.labels

  time_partitioning {
    type  = "DAY"
    field = "event_ts"
  }
}

# Pub/Sub delivers at least once: every report reads the events through this view.
resource "google_bigquery_table" "usage_events_unique" {
  #checkov:skip=CKV_GCP_80:A view stores no data of its own.
  #checkov:skip=CKV_GCP_121:A view is remade from its file in infra/bigquery; protecting it would block changing it.
  project             = var.project_id
  dataset_id          = google_bigquery_dataset.usage.dataset_id
  table_id            = "usage_events_unique"
  deletion_protection = false
  labels              = local.labels

  view {
    query = templatefile("${local.repo_root}/infra/bigquery/usage_events_unique.sql", {
      project = var.project_id
      dataset = google_bigquery_dataset.usage.dataset_id
    })
    use_legacy_sql = false
  }

  depends_on = [google_bigquery_table.usage_events]
}

resource "google_bigquery_table" "views" {
  #checkov:skip=CKV_GCP_80:A view stores no data of its own.
  #checkov:skip=CKV_GCP_121:A view is remade from its file in infra/bigquery/views; protecting it would block changing it.
  for_each            = toset([for file in fileset(local.views_dir, "*.sql") : trimsuffix(file, ".sql")])
  project             = var.project_id
  dataset_id          = google_bigquery_dataset.usage.dataset_id
  table_id            = each.key
  deletion_protection = false
  labels              = local.labels

  view {
    query = templatefile("${local.views_dir}/${each.key}.sql", {
      project = var.project_id
      dataset = google_bigquery_dataset.usage.dataset_id
    })
    use_legacy_sql = false
  }

  depends_on = [google_bigquery_table.usage_events_unique]
}
