-- Measured cost per month beside the seed's monthly estimate for each stage
-- (infra/pricing.py STAGE_MONTHLY_USD). The measured cost is what usage events carry:
-- render jobs, model calls and downloads; the estimates also hold the fixed costs
-- (the web service, Firestore, storage), which the billing export shows.
SELECT
  CAST(DATE_TRUNC(DATE(event_ts), MONTH) AS DATE) AS month,
  COUNT(*) AS events,
  SUM(cost_usd) AS cost_usd,
  CAST(57 AS FLOAT64) AS internal_low_usd,
  CAST(73 AS FLOAT64) AS internal_high_usd,
  CAST(220 AS FLOAT64) AS beta_low_usd,
  CAST(310 AS FLOAT64) AS beta_high_usd,
  CAST(1800 AS FLOAT64) AS production_low_usd,
  CAST(2270 AS FLOAT64) AS production_high_usd
FROM `${project}.${dataset}.usage_events_unique`
GROUP BY month
