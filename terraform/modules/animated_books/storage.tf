# The clips, and the model weights the render job mounts read-only.

resource "google_storage_bucket" "renders" {
  #checkov:skip=CKV_GCP_62:Reads go through short-lived signed URLs; Data Access audit logs cover who signed them.
  project                     = var.project_id
  name                        = "${var.project_id}-renders"
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = local.labels

  # Backups: a deleted or replaced clip stays as a noncurrent version this long.
  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.backup_retention_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  soft_delete_policy {
    retention_duration_seconds = 7 * 24 * 3600
  }

  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket" "models" {
  #checkov:skip=CKV_GCP_62:Only the render job reads the weights; no access log is needed.
  project                     = var.project_id
  name                        = "${var.project_id}-models"
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = local.labels

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      num_newer_versions = 2
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.apis]
}
