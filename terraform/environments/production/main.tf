# production: 1,000+ users, public. High availability (a warm instance, multi-region
# data), autoscaling, stronger data protection (deletion protection, 30 days of
# backups). Seed estimate 1,800–2,270 USD a month.
module "animated_books" {
  source = "../../modules/animated_books"

  project_id             = var.project_id
  region                 = var.region
  data_location          = { firestore = "eur3", bigquery = "EU" }
  stage                  = "production"
  image_tag              = var.image_tag
  web_instances          = { min = 1, max = 20 }
  iap_enabled            = false
  iap_members            = []
  admin_emails           = var.admin_emails
  google_sign_in_enabled = true
  max_parallel_renders   = 8
  job_max_retries        = 1
  job_task_timeout_s     = 1800
  daily_render_quota     = 20
  anonymous_quota        = 3
  renders_per_person     = 2
  wait_budget_s          = 300
  model_paths            = { base_model = "stable-diffusion-v1-5", motion_adapter = "animatediff_lightning_4step_diffusers.safetensors" }
  openai_enabled         = true
  telegram_enabled       = true
  telegram_channel_id    = var.telegram_channel_id
  backup_retention_days  = 30
  deletion_protection    = true
  billing_account        = var.billing_account
  monthly_budget_usd     = 2270
  alert_email            = var.alert_email
}
