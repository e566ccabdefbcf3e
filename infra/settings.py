"""Settings from the environment, read when asked for, never at import."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.presets import TINY_MODEL


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ANIMBOOKS_", extra="ignore")

    #: "tiny" (built in, random weights), a diffusers model directory, or a hub id.
    model: str = TINY_MODEL
    #: A motion adapter for a base model that has none of its own (see animate_job.models).
    motion_adapter: str | None = None
    #: Where to render: "auto" takes a CUDA GPU when there is one.
    device: Literal["auto", "cpu", "cuda"] = "auto"


def load_settings() -> Settings:
    return Settings()
