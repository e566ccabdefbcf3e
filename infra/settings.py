"""Settings from the environment, read when asked for, never at import."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from infra import weights
from infra.domain.presets import TINY_MODEL


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ANIMBOOKS_", extra="ignore", populate_by_name=True)

    #: "tiny" (built in, random weights), a diffusers model directory, or a hub id.
    model: str = TINY_MODEL
    #: A motion adapter for a base model that has none of its own (see animate_job.models).
    motion_adapter: str | None = None
    #: The local dialogue model: a transformers model directory (save_pretrained layout), used
    #: where torch is installed and no OpenAI key is set (frontend_service.dialogue.build_engine).
    llm_model: Path | None = None
    #: Seconds the local model may write one storyboard before the offline engine stands in.
    llm_timeout_s: float = Field(default=90.0, gt=0)
    #: Where to render: "auto" takes a CUDA GPU when there is one.
    device: Literal["auto", "cpu", "cuda"] = "auto"
    #: On a CUDA GPU, render with what `make bench-gpu` measured fastest (animate_job.gpu_speedups);
    #: false runs diffusers' pipeline as it is. Never used on a CPU.
    gpu_speedups: bool = True
    #: Records, queue, clips and usage events on one machine live here.
    data_dir: Path = Path(".data")
    #: Deliveries of one render request before it is marked failed.
    max_attempts: int = Field(default=2, ge=1, le=10)
    #: Renders one account may start per UTC day.
    daily_render_quota: int = Field(default=20, ge=0)
    #: Renders an anonymous visitor may start per UTC day (per cookie and per address);
    #: production keeps it small, and signing in raises it to daily_render_quota.
    anonymous_daily_render_quota: int = Field(default=20, ge=0)
    #: Today's render spend (USD, from the render attempts' usage events) at which new
    #: renders are refused until 00:00 UTC; queued ones are still made, admins are exempt.
    #: Unset: no cap (terraform sets one per stage from its monthly budget).
    daily_spend_cap_usd: float | None = Field(default=None, ge=0)
    #: When a new render would wait longer than this (seconds, estimated from measured
    #: render times), it gets the fastest preset unless the person asks to wait; 0: never.
    render_wait_budget_s: int = Field(default=600, ge=0)
    #: Renders of one person the cloud trigger lets run (or start) at once; more wait
    #: in Pub/Sub, so one person's many renders never hold everyone else's back.
    max_renders_in_flight_per_person: int = Field(default=2, ge=1)
    #: Proxies in front of the site whose X-Forwarded-For is trusted: 0 on one machine (a
    #: forged header changes nothing), 1 on Cloud Run (Google's front end).
    trusted_proxies: int = Field(default=0, ge=0, le=5)
    #: Who may see the reports, the metrics and the moderation page (comma-separated emails).
    admin_emails: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: Internal and beta, behind Identity-Aware Proxy: the audience IAP's signed header must
    #: name, "/projects/PROJECT_NUMBER/locations/REGION/services/SERVICE" for Cloud Run.
    #: Set, every request must carry a valid assertion (nobody is anonymous).
    iap_audience: str | None = None
    #: Where IAP publishes the public keys its assertions are signed with (tests serve their own).
    iap_certs_url: str = "https://www.gstatic.com/iap/verify/public_key"
    #: Production: sign-in with Google (OpenID Connect), the OAuth client terraform reads
    #: from Secret Manager. Unset, nobody signs in with Google.
    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    #: The OpenID provider's discovery document (tests point it at a local provider).
    google_discovery_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    #: A scraper that sends "Authorization: Bearer <this>" may read /metrics; otherwise admins only.
    metrics_token: SecretStr | None = None
    #: Session cookies only over HTTPS. Off for the embedded default, which serves plain
    #: http on 127.0.0.1; on wherever the site is reached through HTTPS.
    secure_cookies: bool = False
    #: Signs session cookies. Unset, a random key is kept in the data folder, which
    #: suits one machine; every instance of a cloud service must share one (terraform
    #: puts it in Secret Manager).
    secret_key: SecretStr | None = None

    # The ChatGPT dialogue, under the names the OpenAI SDK and its users know. With no key
    # the site uses the offline engine; a base URL points at any OpenAI-compatible server.
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    openai_model: str = Field(default="gpt-4o-mini", validation_alias="OPENAI_MODEL")
    #: Seconds one model call may take before the offline engine takes over.
    openai_timeout_s: float = Field(default=20.0, gt=0)

    # The Telegram front (frontend_service/telegram), under the names Telegram's own guides use.
    # Without a token nothing of Telegram starts.
    telegram_bot_token: SecretStr | None = Field(default=None, validation_alias="TELEGRAM_BOT_TOKEN")
    #: The webhook's secret_token: Telegram sends it in X-Telegram-Bot-Api-Secret-Token with every
    #: update (1 to 256 of A-Z, a-z, 0-9, _ and -, as setWebhook allows). Set, the web service
    #: takes updates at /telegram/webhook; `make bot` polls instead.
    telegram_webhook_secret: SecretStr | None = Field(default=None, validation_alias="TELEGRAM_WEBHOOK_SECRET")
    #: The Bot API server (a self-hosted one, or a test's fake).
    telegram_api_url: str = Field(default="https://api.telegram.org", validation_alias="TELEGRAM_API_URL")
    #: The channel published clips are posted to ("@name" or its numeric id); unset, none.
    telegram_channel_id: str | None = Field(default=None, validation_alias="TELEGRAM_CHANNEL_ID")
    #: Messages one Telegram chat may send the bot per minute; more are answered "slow down".
    telegram_chat_messages_per_minute: int = Field(default=20, ge=1)
    #: Where people reach the site: the bot's links (edit on the site, a clip's page) start here.
    site_url: str = "http://127.0.0.1:8080"

    #: "local": SQLite, a folder, the local worker, DuckDB. "cloud": Firestore, Cloud
    #: Storage, Pub/Sub to the render trigger and to BigQuery.
    mode: Literal["local", "cloud"] = "local"

    # Google Cloud (used by the cloud adapters and the render trigger).
    gcp_project: str | None = None
    renders_bucket: str | None = None
    render_requests_topic: str = "render-requests"
    usage_topic: str = "usage-events"
    #: The BigQuery dataset holding the usage table and its views.
    bigquery_dataset: str = "usage"
    #: A Looker Studio report to copy for the reports link (its id); without one,
    #: Looker Studio starts from its default template over the same views.
    looker_template_report: str | None = None
    gcp_region: str = "us-central1"
    #: The Cloud Run job that renders, by its short name.
    render_job: str = "animate-job"
    #: GPU renders allowed at once; further requests wait in Pub/Sub.
    max_parallel_renders: int = Field(default=3, ge=1)
    #: The sweeper re-publishes a render queued or dispatching for longer than this.
    stuck_after_s: int = Field(default=600, ge=60)
    #: The render job's task timeout: a render running longer is failed by the sweeper.
    task_timeout_s: int = Field(default=3600, ge=60)

    @field_validator(
        "openai_api_key",
        "openai_base_url",
        "secret_key",
        "iap_audience",
        "google_client_id",
        "google_client_secret",
        "metrics_token",
        "daily_spend_cap_usd",
        "telegram_bot_token",
        "telegram_webhook_secret",
        "telegram_channel_id",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value):
        # An empty or blank variable (OPENAI_API_KEY= in a .env, an empty secret) means "not set".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("admin_emails", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        if isinstance(value, str):  # from the environment: "a@example.com, b@example.com"
            return [email.strip().lower() for email in value.split(",") if email.strip()]
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _a_secret_telegram_accepts(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("should be 1 to 256 characters of A-Z, a-z, 0-9, _ and - (what setWebhook accepts)")
        return value

    @field_validator("telegram_api_url", "site_url")
    @classmethod
    def _an_address_without_the_last_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("should be an http:// or https:// address")
        return value.rstrip("/")

    @field_validator("llm_model")
    @classmethod
    def _a_model_directory(cls, value: Path | None) -> Path | None:
        if value is not None and not (value / "config.json").is_file():
            raise ValueError("should be a model directory with a config.json (save_pretrained layout)")
        return value

    @model_validator(mode="after")
    def _weights_from_the_data_folder(self) -> Settings:
        """What `make weights` put in the data folder, for each model setting left unset."""
        if self.mode != "local":
            return self
        chosen = self.model_fields_set
        if "model" not in chosen and weights.complete(self.data_dir, weights.BASE_MODEL):
            self.model = str(weights.folder(self.data_dir, weights.BASE_MODEL))
        adapter = weights.folder(self.data_dir, weights.MOTION_ADAPTER) / weights.MOTION_ADAPTER_FILE
        if "motion_adapter" not in chosen and self.model != TINY_MODEL:
            self.motion_adapter = str(adapter) if weights.complete(self.data_dir, weights.MOTION_ADAPTER) else None
        if "llm_model" not in chosen and weights.complete(self.data_dir, weights.LANGUAGE_MODEL):
            self.llm_model = weights.folder(self.data_dir, weights.LANGUAGE_MODEL)
        return self

    @model_validator(mode="after")
    def _one_way_to_sign_in(self) -> Settings:
        if bool(self.google_client_id) != bool(self.google_client_secret):
            raise ValueError(
                "ANIMBOOKS_GOOGLE_CLIENT_ID and ANIMBOOKS_GOOGLE_CLIENT_SECRET go together: set both or neither"
            )
        if self.iap_audience and self.google_client_id:
            raise ValueError(
                "ANIMBOOKS_IAP_AUDIENCE and ANIMBOOKS_GOOGLE_CLIENT_ID: behind IAP people are already signed in;"
                " set one of them"
            )
        return self

    @model_validator(mode="after")
    def _a_webhook_needs_its_bot(self) -> Settings:
        if self.telegram_webhook_secret and not self.telegram_bot_token:
            raise ValueError("TELEGRAM_WEBHOOK_SECRET is set without TELEGRAM_BOT_TOKEN: set the token too, or neither")
        if self.telegram_channel_id and not self.telegram_bot_token:
            raise ValueError("TELEGRAM_CHANNEL_ID is set without TELEGRAM_BOT_TOKEN: the bot posts to the channel")
        return self

    @property
    def telegram(self) -> bool:
        """Whether anything of Telegram runs: only with a bot token."""
        return self.telegram_bot_token is not None

    @property
    def google_sign_in(self) -> bool:
        return self.google_client_id is not None

    @property
    def local_sign_in(self) -> bool:
        """`make run`'s sign-in by email alone, for trying accounts and admins on one machine;
        never on Google Cloud, and never behind IAP."""
        return self.mode == "local" and not self.iap_audience

    @model_validator(mode="after")
    def _cloud_mode_names_its_project_and_bucket(self) -> Settings:
        if self.mode == "cloud":
            missing = [name for name in ("gcp_project", "renders_bucket") if not (getattr(self, name) or "").strip()]
            if missing:
                names = " and ".join(f"ANIMBOOKS_{name.upper()}" for name in missing)
                raise ValueError(f"ANIMBOOKS_MODE=cloud needs {names}: the Google Cloud project and its clips bucket")
        return self

    @property
    def render_job_path(self) -> str:
        return f"projects/{self.gcp_project}/locations/{self.gcp_region}/jobs/{self.render_job}"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "animbooks.sqlite3"

    @property
    def storage_root(self) -> Path:
        return self.data_dir / "files"

    @property
    def usage_folder(self) -> Path:
        """Each process appends its usage events to a file of its own here."""
        return self.data_dir / "usage"

    @property
    def usage_path(self) -> Path:
        """The usage events loaded into DuckDB for the reports (derived from usage_folder)."""
        return self.data_dir / "usage.duckdb"


class ConfigurationError(Exception):
    """A setting the environment gives that the code cannot use; the message is one line
    naming the setting and what it accepts."""


SECRET_SETTINGS = {
    "secret_key",
    "openai_api_key",
    "google_client_secret",
    "metrics_token",
    "telegram_bot_token",
    "telegram_webhook_secret",
}


def describe(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else ""
        if not field:  # a rule over several settings: its message names them
            lines.append(problem["msg"].removeprefix("Value error, "))
            continue
        alias = Settings.model_fields[field].validation_alias if field in Settings.model_fields else None
        name = alias if isinstance(alias, str) else f"ANIMBOOKS_{field.upper()}"
        value = "" if field in SECRET_SETTINGS else f"={problem['input']!r}"
        lines.append(f"{name}{value}: {problem['msg'].replace('Input should be', 'should be')}")
    return "; ".join(lines)


def load_settings() -> Settings:
    """The settings from the environment, or ConfigurationError saying in one line which
    setting is wrong and what it accepts."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigurationError(f"configuration: {describe(error)}") from None
