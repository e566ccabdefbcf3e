# Records: Firestore in native mode, recoverable to any minute of the last 7 days, with
# daily backups, and the composite indexes infra/records_firestore.py's queries need.

resource "google_firestore_database" "records" {
  project                           = var.project_id
  name                              = "(default)"
  location_id                       = var.data_location.firestore
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "OPTIMISTIC"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = var.deletion_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  deletion_policy                   = var.deletion_protection ? "ABANDON" : "DELETE"

  depends_on = [google_project_service.apis]
}

resource "google_firestore_backup_schedule" "daily" {
  project   = var.project_id
  database  = google_firestore_database.records.name
  retention = "${var.backup_retention_days * 24 * 3600}s"

  daily_recurrence {}
}

resource "google_firestore_index" "records" {
  for_each = {
    for index in jsondecode(file("${local.repo_root}/infra/firestore_indexes.json")).indexes :
    join("-", concat([index.collection], [for field in index.fields : "${field.field}-${lookup(field, "order", "CONTAINS")}"])) => index
  }
  project    = var.project_id
  database   = google_firestore_database.records.name
  collection = each.value.collection

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path   = fields.value.field
      order        = lookup(fields.value, "order", null)
      array_config = lookup(fields.value, "array_config", null) # an array a query asks array_contains of
    }
  }
}

# The shared counters (quotas, rate limits, the day's spend; infra/counters/firestore.py)
# carry the moment they expire: Firestore deletes them after it. Never queried by it, so
# not indexed either (an index on an ever-rising time would only cost writes).
resource "google_firestore_field" "counters_expire" {
  project    = var.project_id
  database   = google_firestore_database.records.name
  collection = "counters"
  field      = "expires_at"

  ttl_config {}
  index_config {}
}

# The first answers to Idempotency-Keys (infra/records/firestore.py), kept a day: Firestore
# deletes them after expires_at. Read by document id only, so not indexed.
resource "google_firestore_field" "kept_requests_expire" {
  project    = var.project_id
  database   = google_firestore_database.records.name
  collection = "kept_requests"
  field      = "expires_at"

  ttl_config {}
  index_config {}
}
