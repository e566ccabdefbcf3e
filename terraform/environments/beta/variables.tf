# Set per deployment, by Cloud Build substitutions or a local *.auto.tfvars (docs/deploy.md).

variable "project_id" {
  description = "The Google Cloud project of this stage."
  type        = string
}

variable "region" {
  description = "A region with Cloud Run L4 GPUs and quota for them."
  type        = string
  default     = "europe-west4"
}

variable "image_tag" {
  description = "The commit whose images Cloud Build pushed."
  type        = string
}

variable "billing_account" {
  description = "The billing account the budget watches."
  type        = string
}

variable "alert_email" {
  description = "Where alerts and budget notices go."
  type        = string
}

variable "iap_members" {
  description = "Who may open the site through IAP (user:, group: or domain: members)."
  type        = list(string)
  default     = []
}

variable "admin_emails" {
  description = "Who is an admin of the site: the reports, the metrics and the moderation page."
  type        = list(string)
  default     = []
}

variable "telegram_channel_id" {
  description = "The Telegram channel published clips are posted to (@name or its numeric id); empty: none. Used where the stage runs the bot."
  type        = string
  default     = ""
}
