# beta: up to 50 partners, behind IAP, room to scale. Seed estimate 220–310 USD a month.
module "animated_books" {
  source = "../../modules/animated_books"

  project_id             = var.project_id
  region                 = var.region
  data_location          = { firestore = var.region, bigquery = var.region }
  stage                  = "beta"
  image_tag              = var.image_tag
  web_instances          = { min = 0, max = 5 }
  iap_enabled            = true
  iap_members            = var.iap_members
  admin_emails           = var.admin_emails
  google_sign_in_enabled = false
  max_parallel_renders   = 3
  job_max_retries        = 1
  job_task_timeout_s     = 1800
  daily_render_quota     = 20
  anonymous_quota        = 20
  renders_per_person     = 2
  wait_budget_s          = 600
  model_paths            = { base_model = "stable-diffusion-v1-5", motion_adapter = "animatediff_lightning_4step_diffusers.safetensors" }
  openai_enabled         = true
  telegram_enabled       = false
  telegram_channel_id    = var.telegram_channel_id
  backup_retention_days  = 14
  deletion_protection    = true
  billing_account        = var.billing_account
  monthly_budget_usd     = 310
  alert_email            = var.alert_email
}
