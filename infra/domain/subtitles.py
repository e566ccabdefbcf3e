"""The book's words on screen: each shot's quote as a WebVTT cue, timed to the shot.

WebVTT as the W3C specification defines it (https://www.w3.org/TR/webvtt1/): the
"WEBVTT" signature line, a blank line, then cues of an optional identifier, a timing
line "HH:MM:SS.mmm --> HH:MM:SS.mmm" and the cue text, each cue ended by a blank line.
In cue text "&" and "<" must be escaped (as &amp; and &lt;), and ">" is escaped too so
no text can make the "-->" of a timing line; a cue's text never holds a blank line.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.domain.storyboard import Storyboard


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    text: str


def cues(storyboard: Storyboard, duration_s: float) -> list[Cue]:
    """One cue per shot with a quote, from its start until the next shot's (or the end)."""
    shots = storyboard.shots
    result = []
    for index, shot in enumerate(shots):
        if not shot.quote:
            continue
        end = shots[index + 1].start_s if index + 1 < len(shots) else duration_s
        result.append(Cue(shot.start_s, min(end, duration_s), shot.quote))
    return result


def timestamp(seconds: float) -> str:
    """A WebVTT timestamp with hours: 00:01:02.500."""
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    whole, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole:02d}.{millis:03d}"


def escape(text: str) -> str:
    """Cue text as WebVTT reads it back as the same characters, on one line."""
    one_line = " ".join(text.split())
    return one_line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webvtt(all_cues: list[Cue]) -> str:
    """A WebVTT file of these cues, numbered from 1."""
    blocks = ["WEBVTT"]
    for number, cue in enumerate(all_cues, start=1):
        blocks.append(f"{number}\n{timestamp(cue.start_s)} --> {timestamp(cue.end_s)}\n{escape(cue.text)}")
    return "\n\n".join(blocks) + "\n"
