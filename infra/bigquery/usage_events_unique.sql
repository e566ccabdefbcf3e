-- The usage events, each once. Pub/Sub delivers at least once, so the BigQuery
-- subscription (and the local usage files) may hold an event twice: every view reads
-- this one instead of the table.
SELECT * EXCEPT (copy)
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY event_ts) AS copy
  FROM `${project}.${dataset}.usage_events`
)
WHERE copy = 1
