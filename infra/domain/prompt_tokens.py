"""Counting a prompt's CLIP tokens, or estimating them when no tokenizer is at hand.

Stable Diffusion's text encoder reads 77 tokens, two of them the start and end
markers; anything longer is cut off silently. The renderer counts with the real
tokenizer of the loaded model. The website has no tokenizer (its container carries
no model), so it estimates, erring towards too many: an estimated count may reject a
prompt that would just fit, never the reverse for ordinary English text.
"""

from __future__ import annotations

import re
from typing import Protocol

MAX_PROMPT_TOKENS = 77

# CLIP's own pre-tokenizer pattern, with unicode classes spelled for `re`:
# contractions, runs of letters, single digits, runs of other symbols.
_PIECES = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|[^\s\w]+|_+", re.IGNORECASE)


class TokenCounter(Protocol):
    """Counts the tokens a prompt takes in the text encoder, start and end included."""

    #: "counted" for a real tokenizer, "estimated" for the heuristic; shown in errors.
    method: str

    def __call__(self, text: str) -> int: ...


class EstimatedTokenCounter:
    """A conservative estimate of CLIP's byte-pair tokens, without its vocabulary.

    Short common words are one CLIP token; longer or rarer words split into pieces
    of about four letters. Letters outside ASCII count one token per UTF-8 byte,
    because CLIP's vocabulary holds few merges for them.
    """

    method = "estimated"

    def __call__(self, text: str) -> int:
        tokens = 2  # start and end of text
        for piece in _PIECES.findall(text.lower()):
            if piece.isascii():
                tokens += 1 + (len(piece) - 1) // 4 if piece.isalpha() else len(piece)
            else:
                tokens += len(piece.encode())
        return tokens


class TokenizerCounter:
    """Counts with a real Hugging Face tokenizer (the loaded model's own)."""

    method = "counted"

    def __init__(self, tokenizer) -> None:
        self._tokenizer = tokenizer

    def __call__(self, text: str) -> int:
        return len(self._tokenizer(text, truncation=False).input_ids)
