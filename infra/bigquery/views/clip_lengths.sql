-- Renders per UTC day and clip length (15, 30 or 60 s), and what a second of finished
-- animation cost: every attempt's cost (failed and cancelled ones included, as in
-- render_stats) over the seconds of the clips that succeeded. Events from before clips
-- had lengths carry none; those clips were all 15 s.
WITH attempts AS (
  SELECT
    DATE(event_ts) AS day,
    IFNULL(clip_seconds, 15) AS clip_seconds,
    render_id,
    status,
    cost_usd
  FROM `${project}.${dataset}.usage_events_unique`
  WHERE kind = 'render'
)
SELECT
  day,
  clip_seconds,
  COUNT(DISTINCT render_id) AS renders,
  COUNT(DISTINCT IF(status = 'succeeded', render_id, NULL)) AS succeeded,
  COUNT(DISTINCT IF(status = 'succeeded', render_id, NULL)) * clip_seconds AS animation_seconds,
  SUM(cost_usd) AS cost_usd,
  SAFE_DIVIDE(SUM(cost_usd), COUNT(DISTINCT IF(status = 'succeeded', render_id, NULL))) AS cost_per_clip_usd,
  SAFE_DIVIDE(
    SUM(cost_usd), COUNT(DISTINCT IF(status = 'succeeded', render_id, NULL)) * clip_seconds
  ) AS cost_per_animation_second_usd
FROM attempts
GROUP BY day, clip_seconds
