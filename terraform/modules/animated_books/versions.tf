terraform {
  required_version = ">= 1.6"
  required_providers {
    # 6.47: the oldest release with every argument used here (the render job's
    # gpu_zonal_redundancy_disabled came in 6.47, node_selector in 6.45).
    # tests/deploy/test_provider_schema.py holds the configuration against the schema of
    # both ends of each range.
    google = {
      source  = "hashicorp/google"
      version = "~> 6.47"
    }
    # The web service only: Cloud Run's own IAP switch (iap_enabled) is in google-beta in 6.x.
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "~> 6.47"
    }
    # Below 3.8: 3.7.2 is the newest release whose schema the test can read.
    random = {
      source  = "hashicorp/random"
      version = ">= 3.6.0, < 3.8.0"
    }
  }
}
