-- Renders per UTC day. A render has one event per attempt: it counts as succeeded if
-- any attempt that day succeeded, as cancelled if its owner cancelled it, as failed if
-- neither. Render times are those of
-- succeeded attempts; GPU seconds and cost are those of every attempt, so the cost per
-- clip carries the attempts that failed. A second of animation is a second of a clip that
-- succeeded (events from before clips had lengths carry none: those were 15 s; a book's
-- reel carries 0: it joins clips already counted).
WITH attempts AS (
  SELECT
    DATE(event_ts) AS day,
    render_id,
    status,
    gpu_seconds,
    cost_usd,
    -- A request delivered twice can succeed twice (both jobs ran): its clip's seconds count once.
    IF(
      status = 'succeeded' AND ROW_NUMBER() OVER (PARTITION BY DATE(event_ts), render_id, status ORDER BY event_ts) = 1,
      IFNULL(clip_seconds, 15),
      0
    ) AS animation_seconds,
    PERCENTILE_CONT(IF(status = 'succeeded', wall_seconds, NULL), 0.5) OVER (PARTITION BY DATE(event_ts)) AS p50_wall_s,
    PERCENTILE_CONT(IF(status = 'succeeded', wall_seconds, NULL), 0.95) OVER (PARTITION BY DATE(event_ts)) AS p95_wall_s
  FROM `${project}.${dataset}.usage_events_unique`
  WHERE kind = 'render'
)
SELECT
  day,
  COUNT(DISTINCT render_id) AS renders,
  COUNT(DISTINCT IF(status = 'succeeded', render_id, NULL)) AS succeeded,
  COUNT(DISTINCT render_id) - COUNT(DISTINCT IF(status = 'succeeded', render_id, NULL))
    - COUNT(DISTINCT IF(status = 'cancelled', render_id, NULL)) AS failed,
  COUNT(DISTINCT IF(status = 'cancelled', render_id, NULL)) AS cancelled,
  ANY_VALUE(p50_wall_s) AS p50_wall_s,
  ANY_VALUE(p95_wall_s) AS p95_wall_s,
  SUM(IFNULL(gpu_seconds, 0)) AS gpu_seconds,
  SUM(cost_usd) AS cost_usd,
  SAFE_DIVIDE(SUM(cost_usd), COUNT(DISTINCT IF(status = 'succeeded', render_id, NULL))) AS cost_per_clip_usd,
  SUM(animation_seconds) AS animation_seconds,
  SAFE_DIVIDE(SUM(cost_usd), SUM(animation_seconds)) AS cost_per_animation_second_usd
FROM attempts
GROUP BY day
