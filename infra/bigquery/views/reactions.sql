-- Gallery votes per UTC day. A vote is up (+1), down (-1) or cleared; the average
-- reaction is the mean of the day's up and down votes, from -1 to +1.
SELECT
  DATE(event_ts) AS day,
  COUNT(DISTINCT render_id) AS clips,
  COUNTIF(status = 'up') AS up,
  COUNTIF(status = 'down') AS down,
  COUNTIF(status = 'cleared') AS cleared,
  SAFE_DIVIDE(COUNTIF(status = 'up') - COUNTIF(status = 'down'), COUNTIF(status IN ('up', 'down'))) AS average_reaction
FROM `${project}.${dataset}.usage_events_unique`
WHERE kind = 'rating'
GROUP BY day
