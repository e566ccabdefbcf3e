"""The clarifying dialogue: from a scene to a storyboard, through a few questions."""
