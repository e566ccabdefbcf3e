terraform {
  required_version = ">= 1.6"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.36" # Cloud Run IAP (iap_enabled) and GPU jobs
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
}
