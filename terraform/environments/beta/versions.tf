terraform {
  required_version = ">= 1.6"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.47"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "~> 6.47"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.6.0, < 3.8.0"
    }
  }

  # The state bucket is given at init: terraform init -backend-config="bucket=STATE_BUCKET"
  backend "gcs" {
    prefix = "animated-books/beta"
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

# The web service's IAP switch is a google-beta argument (terraform/modules/animated_books/run.tf).
provider "google-beta" {
  project = var.project_id
  region  = var.region
}

output "site_url" {
  description = "The web service's address."
  value       = module.animated_books.site_url
}

output "models_bucket" {
  description = "Upload the model weights here."
  value       = module.animated_books.models_bucket
}
