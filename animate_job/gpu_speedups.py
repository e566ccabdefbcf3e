"""What makes a render faster on a CUDA GPU, as `make bench-gpu` measured it.

- FreeNoise's windows go through each motion module in one batch, not one at a time;
- the VAE decodes 8 frames at a time;
- cuDNN picks its convolution algorithms by timing them.

Each computes the same function as diffusers' own code (the tests compare them); only
the speed and the memory differ. The renderer applies them on CUDA unless
the setting `ANIMBOOKS_GPU_SPEEDUPS=false` turns them off; on a CPU it never does.
The measurements behind each choice are in docs/gpu-speed.md.
"""

from __future__ import annotations

import torch
from diffusers import AnimateDiffPipeline
from diffusers.models.attention import FreeNoiseTransformerBlock


class WindowBatchedFreeNoiseBlock(FreeNoiseTransformerBlock):
    """diffusers' FreeNoise transformer block, with its windows stacked into one batch.

    FreeNoise runs each motion module's temporal attention over overlapping windows of
    `context_length` frames. diffusers does it in a Python loop, one window at a time:
    27 windows a block for 120 frames at stride 4, each a dozen small kernels, so the
    GPU waits on Python. Here the windows of a block go through the attention together
    (in groups of at most `max_group_elements` values, which bounds the memory), and
    are then averaged exactly as diffusers averages them: same weights, same order,
    same number formats.
    """

    max_group_elements = 2**28  # 512 MiB of bf16 per stacked tensor

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        encoder_hidden_states: torch.Tensor | None = None,
        encoder_attention_mask: torch.Tensor | None = None,
        cross_attention_kwargs: dict | None = None,
        *args,
        **kwargs,
    ) -> torch.Tensor:
        # Masks, cross-attention to a prompt and processor options never reach a motion
        # module from AnimateDiff; should they ever, diffusers' loop handles them.
        if (
            attention_mask is not None
            or encoder_attention_mask is not None
            or encoder_hidden_states is not None
            or cross_attention_kwargs
            or self.only_cross_attention
        ):
            return super().forward(
                hidden_states,
                attention_mask,
                encoder_hidden_states,
                encoder_attention_mask,
                cross_attention_kwargs,
                *args,
                **kwargs,
            )
        # hidden_states: [batch x height x width, frames, channels]
        batch, num_frames, channels = hidden_states.shape
        length = self.context_length
        windows = self._get_frame_indices(num_frames)
        # Where the windows do not end on the last frame, diffusers adds one window ending
        # there, and counts only its frames past the last full window (with a weight of its own
        # for the normaliser; kept as it is, so that the two give the same clip).
        tail = num_frames - windows[-1][1]
        if tail:
            windows.append((num_frames - length, num_frames))
        weights = self._window_weights(length, hidden_states)

        accumulated = torch.zeros_like(hidden_states)
        times_accumulated = torch.zeros((1, num_frames, 1), device=hidden_states.device)
        per_group = max(1, self.max_group_elements // (batch * length * channels))
        for first in range(0, len(windows), per_group):
            group = windows[first : first + per_group]
            outputs = self._attend(torch.stack([hidden_states[:, start:end] for start, end in group], dim=1))
            for index, ((start, end), output) in enumerate(zip(group, outputs.unbind(1), strict=True), start=first):
                if tail and index == len(windows) - 1:
                    accumulated[:, -tail:] += output[:, -tail:] * weights[:, -tail:]
                    times_accumulated[:, -tail:] += weights[:, -tail]
                else:
                    accumulated[:, start:end] += output * weights
                    times_accumulated[:, start:end] += weights

        # From here on, diffusers' own code: the weighted average, then the feed-forward.
        hidden_states = torch.cat(
            [
                torch.where(times > 0, values / times, values)
                for values, times in zip(
                    accumulated.split(length, dim=1), times_accumulated.split(length, dim=1), strict=True
                )
            ],
            dim=1,
        ).to(hidden_states.dtype)
        norm_hidden_states = self.norm3(hidden_states)
        if self._chunk_size is not None:
            from diffusers.models.attention import _chunked_feed_forward

            ff_output = _chunked_feed_forward(self.ff, norm_hidden_states, self._chunk_dim, self._chunk_size)
        else:
            ff_output = self.ff(norm_hidden_states)
        hidden_states = ff_output + hidden_states
        if hidden_states.ndim == 4:
            hidden_states = hidden_states.squeeze(1)
        return hidden_states

    def _window_weights(self, length: int, hidden_states: torch.Tensor) -> torch.Tensor:
        """diffusers' weights within a window, [1, length, 1] in fp32, kept on the device: a
        copy from the host in every call would stop a CUDA graph from capturing the block."""
        key = (length, self.weighting_scheme, hidden_states.device, hidden_states.dtype)
        if getattr(self, "_weights_key", None) != key:
            frame_weights = self._get_frame_weights(length, self.weighting_scheme)
            frame_weights = torch.tensor(frame_weights, device=hidden_states.device, dtype=hidden_states.dtype)
            self._weights = torch.ones((1, length, 1), device=hidden_states.device) * frame_weights[None, :, None]
            self._weights_key = key
        return self._weights

    def _attend(self, windows: torch.Tensor) -> torch.Tensor:
        """Self-attention, then the second attention, over [batch, windows, frames, channels]."""
        batch, count, length, channels = windows.shape
        chunk = windows.reshape(batch * count, length, channels)
        norm_hidden_states = self.norm1(chunk)
        if self.pos_embed is not None:
            norm_hidden_states = self.pos_embed(norm_hidden_states)
        chunk = self.attn1(norm_hidden_states) + chunk
        if self.attn2 is not None:
            norm_hidden_states = self.norm2(chunk)
            if self.pos_embed is not None and self.norm_type != "ada_norm_single":
                norm_hidden_states = self.pos_embed(norm_hidden_states)
            chunk = self.attn2(norm_hidden_states) + chunk
        return chunk.reshape(batch, count, length, channels)


def batch_free_noise_windows(pipeline: AnimateDiffPipeline) -> int:
    """Turns every FreeNoise block of the pipeline's UNet into a window-batched one, in place
    (their weights stay where they are). Call after `enable_free_noise`; later calls of
    `enable_free_noise` keep them. Returns how many blocks it changed."""
    changed = 0
    for module in pipeline.unet.modules():
        if type(module) is FreeNoiseTransformerBlock:
            module.__class__ = WindowBatchedFreeNoiseBlock
            changed += 1
    return changed


#: Frames the VAE decodes at once on CUDA, within the preset's own bound. On an H200, 120 frames
#: at 512x512 decoded in 1.41 s in chunks of 8 and 2.25 s in chunks of 16 (32: 1.33 s, but twice
#: the memory), measured by `make bench-gpu` (docs/gpu-speed.md).
DECODE_CHUNK_FRAMES = 8


def prepare(pipeline: AnimateDiffPipeline) -> None:
    """The speedups that act once, on a pipeline just loaded onto a CUDA GPU.

    channels_last is left out: it made the UNet step slower (1.02 s against 0.95 s) and,
    with the VAE's group norms converting every tensor back and forth, lost to
    contiguous decoding in chunks of 8.
    """
    torch.backends.cudnn.benchmark = True  # one clip shape per process; every measured speedup ran with it


def decode_chunk_size(preset_chunk: int) -> int:
    """Frames to decode at once: the faster measured size, never above the preset's memory bound."""
    return min(preset_chunk, DECODE_CHUNK_FRAMES)
