-- What each kind of event cost per UTC day.
WITH events AS (
  -- Events are delivered at least once: keep one copy of each event_id.
  SELECT * EXCEPT (copy)
  FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY event_ts) AS copy
    FROM `${project}.${dataset}.usage_events`
  )
  WHERE copy = 1
)
SELECT
  DATE(event_ts) AS day,
  kind,
  COUNT(*) AS events,
  SUM(cost_usd) AS cost_usd
FROM events
GROUP BY day, kind
