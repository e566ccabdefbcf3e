# The OpenAI key and the OAuth client of sign-in with Google (their values are added by
# hand, never in terraform), and the key that signs session cookies, shared by every
# instance of the web service.

resource "google_secret_manager_secret" "openai_api_key" {
  #checkov:skip=CKV_GCP_128:Google-managed encryption; the key can be rotated by adding a version.
  project   = var.project_id
  secret_id = "openai-api-key"
  labels    = local.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.apis]
}

resource "random_password" "session_key" {
  length  = 64
  special = false
}

resource "google_secret_manager_secret" "session_key" {
  #checkov:skip=CKV_GCP_128:Google-managed encryption; rotating means a new version and a new revision.
  project   = var.project_id
  secret_id = "session-key"
  labels    = local.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.apis]
}

resource "google_secret_manager_secret_version" "session_key" {
  secret      = google_secret_manager_secret.session_key.id
  secret_data = random_password.session_key.result
}

# Sign-in with Google (production): the OAuth client made in the console (docs/deploy.md).
# Both are secrets so that neither sits in terraform's state or the service's plain env.
resource "google_secret_manager_secret" "google_oauth" {
  #checkov:skip=CKV_GCP_128:Google-managed encryption; the client can be rotated by adding a version.
  for_each  = { for name, secret in local.google_oauth_secrets : name => secret if var.google_sign_in_enabled }
  project   = var.project_id
  secret_id = each.value
  labels    = local.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.apis]
}

# The Telegram bot: its token from @BotFather (added by hand, as the OpenAI key), and the
# secret Telegram sends with every update to the webhook (generated; setWebhook is given it,
# docs/deploy.md). The same secret guards the push of finished renders.
resource "google_secret_manager_secret" "telegram" {
  #checkov:skip=CKV_GCP_128:Google-managed encryption; the token can be rotated by adding a version.
  for_each  = var.telegram_enabled ? local.telegram_secrets : {}
  project   = var.project_id
  secret_id = each.value
  labels    = local.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.apis]
}

resource "random_password" "telegram_webhook_secret" {
  count   = var.telegram_enabled ? 1 : 0
  length  = 64
  special = false # setWebhook takes A-Z, a-z, 0-9, _ and - only
}

resource "google_secret_manager_secret_version" "telegram_webhook_secret" {
  count       = var.telegram_enabled ? 1 : 0
  secret      = google_secret_manager_secret.telegram["TELEGRAM_WEBHOOK_SECRET"].id
  secret_data = random_password.telegram_webhook_secret[0].result
}
