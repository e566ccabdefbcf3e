-- Each user's renders, dialogue turns and cost per UTC day.
SELECT
  DATE(event_ts) AS day,
  user_id,
  COUNT(DISTINCT IF(kind = 'render', render_id, NULL)) AS renders,
  COUNTIF(kind = 'dialogue_turn') AS dialogue_turns,
  SUM(cost_usd) AS cost_usd
FROM `${project}.${dataset}.usage_events_unique`
WHERE user_id IS NOT NULL
GROUP BY day, user_id
