# Every environment (terraform/environments/*) sets every one of these; tests hold it so.

variable "project_id" {
  description = "The Google Cloud project the stage runs in."
  type        = string
}

variable "region" {
  description = "A region with Cloud Run NVIDIA L4 GPUs (europe-west1, europe-west4, us-central1, us-east4, asia-southeast1)."
  type        = string
}

variable "data_location" {
  description = "Where Firestore and BigQuery keep data: a multi-region (eur3 / EU, nam5 / US) for production, else the region."
  type = object({
    firestore = string
    bigquery  = string
  })
}

variable "stage" {
  description = "internal (the team), beta (partners) or production."
  type        = string
  validation {
    condition     = contains(["internal", "beta", "production"], var.stage)
    error_message = "The stage is internal, beta or production."
  }
}

variable "image_tag" {
  description = "The tag of the web, job and trigger images in Artifact Registry: the commit Cloud Build built."
  type        = string
}

variable "web_instances" {
  description = "Minimum and maximum instances of the web service. A minimum above 0 keeps a warm instance (no cold start) at a fixed cost."
  type = object({
    min = number
    max = number
  })
}

variable "iap_enabled" {
  description = "Put the site behind Identity-Aware Proxy (internal and beta). Off: anyone may open it (production)."
  type        = bool
}

variable "admin_emails" {
  description = "Who is an admin of the site (ANIMBOOKS_ADMIN_EMAILS): the reports, the metrics and the moderation page. IAP puts no groups in its assertion, so an allowlist of emails."
  type        = list(string)
}

variable "google_sign_in_enabled" {
  description = "Sign-in with Google on the site (production): the web service reads the OAuth client from the google-oauth-client-id and google-oauth-client-secret secrets (add their versions first, docs/deploy.md). Never together with IAP, which signs people in itself."
  type        = bool
}

variable "iap_members" {
  description = "Who may pass IAP (user:, group: or domain: members); unused without IAP."
  type        = list(string)
}

variable "max_parallel_renders" {
  description = "GPU renders at once; more requests wait in Pub/Sub. Bounded by the project's L4 quota."
  type        = number
}

variable "job_max_retries" {
  description = "Retries of a failed render task; the job is told max_retries + 1 attempts."
  type        = number
  validation {
    condition     = var.job_max_retries >= 0 && var.job_max_retries <= 3
    error_message = "Between 0 and 3 retries."
  }
}

variable "job_task_timeout_s" {
  description = "Seconds one render attempt may run. Cloud Run GPU jobs allow at most an hour."
  type        = number
  validation {
    condition     = var.job_task_timeout_s >= 300 && var.job_task_timeout_s <= 3600
    error_message = "Between 300 and 3600 seconds (the GPU task limit)."
  }
}

variable "daily_render_quota" {
  description = "Renders one person may start per UTC day."
  type        = number
}

variable "anonymous_quota" {
  description = "Renders a visitor who has not signed in may start per UTC day, counted per cookie and per client address at once: a small allowance that signing in raises to daily_render_quota."
  type        = number
  validation {
    condition     = var.anonymous_quota >= 0
    error_message = "Zero or more renders."
  }
}

variable "renders_per_person" {
  description = "One person's renders dispatching or running at once; the trigger holds theirs beyond it in Pub/Sub, so others' renders go by."
  type        = number
  validation {
    condition     = var.renders_per_person >= 1
    error_message = "At least one render."
  }
}

variable "wait_budget_s" {
  description = "When a new render would wait longer than this many seconds (estimated from measured render times), it gets the draft preset unless the person asks to wait; 0 never switches."
  type        = number
}

variable "model_paths" {
  description = "Paths inside the model weights bucket (mounted read-only at /models): the base model directory and the motion adapter."
  type = object({
    base_model     = string
    motion_adapter = string
  })
}

variable "openai_enabled" {
  description = "Give the web service the OpenAI key from Secret Manager (add a version to the openai-api-key secret first). Off: the offline dialogue."
  type        = bool
}

variable "telegram_enabled" {
  description = "The Telegram bot on the web service: its webhook, its token (add a version to the telegram-bot-token secret first) and a generated webhook secret from Secret Manager, and finished renders pushed to it. Only where the site is public: Telegram cannot pass IAP."
  type        = bool
}

variable "telegram_channel_id" {
  description = "The Telegram channel published clips are posted to (@name or its numeric id); empty: none."
  type        = string
}

variable "backup_retention_days" {
  description = "Days deleted or replaced clips are kept as noncurrent versions, and Firestore daily backups are kept."
  type        = number
}

variable "deletion_protection" {
  description = "Refuse terraform destroy of the database, the usage table and the Cloud Run resources."
  type        = bool
}

variable "billing_account" {
  description = "The billing account (XXXXXX-XXXXXX-XXXXXX) the stage's budget watches."
  type        = string
}

variable "monthly_budget_usd" {
  description = "The stage's monthly budget: the high end of the seed's estimate (infra/domain/pricing.py STAGE_MONTHLY_USD)."
  type        = number
}

variable "alert_email" {
  description = "Where alerts and budget notices go."
  type        = string
}
