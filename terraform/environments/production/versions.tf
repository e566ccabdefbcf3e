terraform {
  required_version = ">= 1.6"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.36"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # The state bucket is given at init: terraform init -backend-config="bucket=STATE_BUCKET"
  backend "gcs" {
    prefix = "animated-books/production"
  }
}

provider "google" {
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
