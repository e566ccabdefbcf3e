-- What each kind of event cost per UTC day.
SELECT
  DATE(event_ts) AS day,
  kind,
  COUNT(*) AS events,
  SUM(cost_usd) AS cost_usd
FROM `${project}.${dataset}.usage_events_unique`
GROUP BY day, kind
