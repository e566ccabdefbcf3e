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


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def seconds(stamp: str) -> float:
    """A WebVTT timestamp, with or without hours (01:02.500 or 00:01:02.500), in seconds."""
    *hours, minutes, rest = stamp.strip().split(":")
    return int(hours[0] if hours else 0) * 3600 + int(minutes) * 60 + float(rest)


def parse_webvtt(text: str) -> list[Cue]:
    """The cues of a WebVTT file as `webvtt` writes them (identifiers, a timing line, one
    line of text); cue settings after the end time are left out. Raises ValueError on a
    file without the signature."""
    blocks = text.replace("\r\n", "\n").strip().split("\n\n")
    if not blocks[0].startswith("WEBVTT"):
        raise ValueError("not a WebVTT file: it does not start with WEBVTT")
    result = []
    for block in blocks[1:]:
        lines = block.split("\n")
        timing = next((index for index, line in enumerate(lines) if "-->" in line), None)
        if timing is None:
            continue  # a NOTE or STYLE block
        start, end = lines[timing].split("-->")
        result.append(Cue(seconds(start), seconds(end.split()[0]), unescape("\n".join(lines[timing + 1 :]))))
    return result


def offset(all_cues: list[Cue], by_s: float) -> list[Cue]:
    """The cues moved later by `by_s` seconds: one part's cues where the part starts in a reel."""
    return [Cue(round(cue.start_s + by_s, 3), round(cue.end_s + by_s, 3), cue.text) for cue in all_cues]
