-- Each user's renders, dialogue turns and cost per UTC day.
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
  user_id,
  COUNT(DISTINCT IF(kind = 'render', render_id, NULL)) AS renders,
  COUNTIF(kind = 'dialogue_turn') AS dialogue_turns,
  SUM(cost_usd) AS cost_usd
FROM events
WHERE user_id IS NOT NULL
GROUP BY day, user_id
