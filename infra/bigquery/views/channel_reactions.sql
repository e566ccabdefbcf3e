-- Reactions on the Telegram channels' posts, per UTC day, from the bot's
-- message_reaction_count updates (usage events of kind channel_reaction). An update carries a
-- post's counts then, not a change, so each post counts with its latest update, on the day it
-- was first seen. One row per channel: its posts, 👍 (likes) and 👎 (dislikes) and their means
-- per post, and its subscribers (the most getChatMemberCount said that day). One row more with
-- channel_id NULL, every channel at once:
--   avg_react          = AvgReact, the mean over channels of likes per post
--   weighted_avg_react = WeightedAvgReact, that mean weighted by each channel's subscribers
-- and the same two for thumbs-down (avg_dislike, weighted_avg_dislike). On a channel's own row
-- they are its likes (dislikes) per post.
WITH updates AS (
  SELECT
    channel_id,
    post_id,
    likes,
    dislikes,
    subscribers,
    MIN(event_ts) OVER (PARTITION BY channel_id, post_id) AS first_seen,
    ROW_NUMBER() OVER (PARTITION BY channel_id, post_id ORDER BY event_ts DESC, event_id DESC) AS newest
  FROM `${project}.${dataset}.usage_events_unique`
  WHERE kind = 'channel_reaction'
),
channels AS (
  SELECT
    DATE(first_seen) AS day,
    channel_id,
    COUNT(*) AS posts,
    SUM(likes) AS likes,
    SUM(dislikes) AS dislikes,
    MAX(subscribers) AS subscribers,
    SUM(likes) / COUNT(*) AS likes_per_post,
    SUM(dislikes) / COUNT(*) AS dislikes_per_post
  FROM updates
  WHERE newest = 1
  GROUP BY day, channel_id
)
SELECT
  day,
  channel_id,
  1 AS channels,
  posts,
  likes,
  dislikes,
  subscribers,
  likes_per_post AS avg_react,
  likes_per_post AS weighted_avg_react,
  dislikes_per_post AS avg_dislike,
  dislikes_per_post AS weighted_avg_dislike
FROM channels
UNION ALL
SELECT
  day,
  CAST(NULL AS STRING) AS channel_id,
  COUNT(*) AS channels,
  SUM(posts) AS posts,
  SUM(likes) AS likes,
  SUM(dislikes) AS dislikes,
  SUM(subscribers) AS subscribers,
  AVG(likes_per_post) AS avg_react,
  SAFE_DIVIDE(SUM(subscribers * likes_per_post), SUM(subscribers)) AS weighted_avg_react,
  AVG(dislikes_per_post) AS avg_dislike,
  SAFE_DIVIDE(SUM(subscribers * dislikes_per_post), SUM(subscribers)) AS weighted_avg_dislike
FROM channels
GROUP BY day
