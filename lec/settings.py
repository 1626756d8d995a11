"""The platform's whole configuration: one pydantic-settings class, the only code that reads the environment.

Every `LEC_*` variable and `DATABASE_URL` is a field here, read from the environment (or `.env`) by
:func:`get_settings`. The API's own variables are prefixed `LEC_API_`; the ones the whole platform shares
(`DATABASE_URL`, `LEC_RPC_URL`, `LEC_DEPLOYMENTS_DIR`, `LEC_DATA_DIR`, …) name themselves. The dev identity mode
(a local Keycloak-compatible issuer for the demo) is off unless asked for and refuses any host that is not
loopback.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_RPC_URL = "http://127.0.0.1:8545"
# Where `make` caches Spark's jars (tools/spark/spark.sh fetch): the checkout the package is installed from.
DEFAULT_SPARK_JARS = Path(__file__).resolve().parents[1] / ".spark-jars"
DEFAULT_API_URL = "http://127.0.0.1:8000/api/v1"


class SettingsError(ValueError):
    """The configuration is unsafe or incomplete; the message says which variable to change."""


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1); false for 0.0.0.0 and anything else."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEC_API_", env_file=".env", extra="ignore", populate_by_name=True)

    environment: str = Field(default="development", pattern="^(development|production)$")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    # Keycloak: the realm that issues tokens and the audience this API answers to.
    keycloak_url: str = "http://127.0.0.1:8080/"
    keycloak_realm: str = "lec"
    audience: str = "lec-api"
    # The API's own confidential client: token introspection and (with realm-management roles on its
    # service account) the admin calls of registration, deletion and role grants.
    client_id: str = "lec-api"
    client_secret: SecretStr | None = None
    # Clock skew tolerated on `exp`, `nbf` and `iat`, and the minimum time between two fetches of the realm's keys
    # triggered by an unknown `kid` (so forged kids cannot make us hammer Keycloak).
    leeway_seconds: int = Field(default=30, ge=0, le=300)
    jwks_refetch_interval_seconds: float = Field(default=30.0, ge=0)
    jwks_max_age_seconds: float = Field(default=3600.0, gt=0)
    # Validated tokens are remembered (by a hash of the token) until their `exp`, at most this long, so a
    # dashboard session does not re-verify the same RS256 signature on every request; 0 turns the cache off.
    token_cache_seconds: float = Field(default=60.0, ge=0, le=300)
    token_cache_size: int = Field(default=10_000, ge=0)
    # Member dashboard pages read at once (one worker thread each); more wait for a free reader. Unset: 2 on
    # SQLite (reading is CPU in this process), 4 on a database server (threads also wait for its answers).
    dashboard_readers: int | None = Field(default=None, ge=1, le=64)

    # Hardening (docs/identity.md, "Hardening"). Request bodies are capped before they are read: 1 MiB, the
    # readings route a batch of up to 5 000 readings, routes that need no token a small form; JSON nested deeper
    # than `max_json_depth` is refused before it is parsed; a longer bearer token than `max_token_bytes` unread.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_batch_body_bytes: int = Field(default=4_194_304, ge=1024)
    max_anonymous_body_bytes: int = Field(default=16_384, ge=1024)
    max_json_depth: int = Field(default=32, ge=8, le=512)
    max_token_bytes: int = Field(default=16_384, ge=1024, le=65_536)
    # Rate limits in the notation of the `limits` package ("120/minute", "10 per 10 minutes", several joined by
    # ";"; empty turns one off): every caller by Keycloak subject, requests without a valid token by client
    # address, and two routes that store rows for whoever asks. `memory://` counts per process.
    rate_limit_caller: str = "300/minute;6000/hour"
    rate_limit_anonymous: str = "60/minute"
    rate_limit_registrations: str = "5/hour"
    rate_limit_wallet_challenges: str = "10/10 minutes"
    rate_limit_storage_uri: str = "memory://"

    dev_identity: bool = False

    # Sign-In-With-Ethereum: the domain and URI the dApp presents in the EIP-4361 message.
    siwe_domain: str = "localhost:8501"
    siwe_uri: str = "http://localhost:8501"
    siwe_nonce_ttl_seconds: int = Field(default=600, gt=0, le=86400)
    # Challenges a person may hold open at once; asking for one more drops the oldest.
    siwe_open_nonces_max: int = Field(default=5, ge=1, le=100)
    chain_id: int = 1981

    # On-chain membership: the community admin's key, from the environment or an encrypted keystore file.
    community_admin_private_key: SecretStr | None = None
    community_admin_keystore: Path | None = None
    community_admin_keystore_password: SecretStr | None = None

    # Shared by every part of the platform (no prefix).
    database_url: str | None = Field(default=None, validation_alias=AliasChoices("database_url", "DATABASE_URL"))
    rpc_url: str = Field(default=DEFAULT_RPC_URL, validation_alias=AliasChoices("rpc_url", "LEC_RPC_URL"))
    deployments_dir: Path = Field(
        default=Path("deployments"), validation_alias=AliasChoices("deployments_dir", "LEC_DEPLOYMENTS_DIR")
    )
    # Databases, period trees and salts; contract ABIs (ape's build output, default `.build/__local__.json`).
    data_dir: Path = Field(default=Path("data"), validation_alias=AliasChoices("data_dir", "LEC_DATA_DIR"))
    build_file: Path | None = Field(default=None, validation_alias=AliasChoices("build_file", "LEC_BUILD_FILE"))

    # Outgoing mail for the living lab's messages (members who opted in get a copy): the same LEC_SMTP_* variables
    # the shipped Keycloak realm sends its own e-mails with. No host: no e-mail (the inbox still gets everything).
    smtp_host: str | None = Field(default=None, validation_alias=AliasChoices("smtp_host", "LEC_SMTP_HOST"))
    smtp_port: int = Field(default=25, ge=1, le=65535, validation_alias=AliasChoices("smtp_port", "LEC_SMTP_PORT"))
    smtp_from: str = Field(default="noreply@lec.localhost", validation_alias=AliasChoices("smtp_from", "LEC_SMTP_FROM"))
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    # The living lab's outside voices read public feeds only; true lets them read loopback/private addresses (the
    # tests' and a local demo's feed server). Never in production: an admin's feed could read the server's network.
    lab_feeds_allow_private: bool = Field(
        default=False, validation_alias=AliasChoices("lab_feeds_allow_private", "LEC_LAB_FEEDS_ALLOW_PRIVATE")
    )

    # The oracle's signing key (publishes periods, submits claims, registers models), and the MQTT password of
    # the ingester when no password file is given.
    oracle_private_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("oracle_private_key", "LEC_ORACLE_PRIVATE_KEY")
    )
    mqtt_password: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("mqtt_password", "LEC_MQTT_PASSWORD")
    )
    # ape scripts: the account alias that deploys (default: the node's first test account).
    deployer: str | None = Field(default=None, validation_alias=AliasChoices("deployer", "LEC_DEPLOYER"))

    # Flexibility (docs/flexibility.md): k of the buyers' k-anonymous offer, the share of an event's request the
    # declarations must cover to opt in, and the community's OpenADR 2.0b VEN (VTN URL, name, certificates).
    flex_k_anonymity: int = Field(default=5, ge=3, validation_alias=AliasChoices("flex_k_anonymity", "LEC_FLEX_K"))
    flex_min_cover_bps: int = Field(
        default=10_000, ge=1, le=10_000, validation_alias=AliasChoices("flex_min_cover_bps", "LEC_FLEX_MIN_COVER_BPS")
    )
    flex_vtn_url: str | None = Field(default=None, validation_alias=AliasChoices("flex_vtn_url", "LEC_FLEX_VTN_URL"))
    flex_ven_name: str = Field(
        default="lec-community", validation_alias=AliasChoices("flex_ven_name", "LEC_FLEX_VEN_NAME")
    )
    flex_ven_cert: Path | None = Field(
        default=None, validation_alias=AliasChoices("flex_ven_cert", "LEC_FLEX_VEN_CERT")
    )
    flex_ven_key: Path | None = Field(default=None, validation_alias=AliasChoices("flex_ven_key", "LEC_FLEX_VEN_KEY"))
    flex_vtn_fingerprint: str | None = Field(
        default=None, validation_alias=AliasChoices("flex_vtn_fingerprint", "LEC_FLEX_VTN_FINGERPRINT")
    )
    flex_vtn_ca_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("flex_vtn_ca_file", "LEC_FLEX_VTN_CA_FILE")
    )
    flex_report_seconds: int = Field(
        default=900, ge=1, validation_alias=AliasChoices("flex_report_seconds", "LEC_FLEX_REPORT_SECONDS")
    )
    # The registered `flexibility` reward model a period run rewards the day's events with (docs/proofs.md §8).
    flex_model_name: str = Field(
        default="lec-flexibility", validation_alias=AliasChoices("flex_model_name", "LEC_FLEX_MODEL")
    )
    # The scale-out engine (docs/scale.md). The Delta Lake: a folder or an object-store URI (s3a://…, abfss://…),
    # default `LEC_DATA_DIR/lake`. Spark's master when the oracle starts the session itself (under spark-submit
    # the submitted master wins), the folder of the pinned jars, the driver's memory, the shuffle partitions,
    # and where `--engine spark` reads readings from: the lake, or PostgreSQL over JDBC (`DATABASE_URL`).
    lake: str | None = Field(default=None, validation_alias=AliasChoices("lake", "LEC_LAKE"))
    spark_master: str = Field(default="local[*]", validation_alias=AliasChoices("spark_master", "LEC_SPARK_MASTER"))
    spark_jars: Path = Field(default=DEFAULT_SPARK_JARS, validation_alias=AliasChoices("spark_jars", "LEC_SPARK_JARS"))
    spark_driver_memory: str = Field(
        default="4g", validation_alias=AliasChoices("spark_driver_memory", "LEC_SPARK_DRIVER_MEMORY")
    )
    spark_shuffle_partitions: int = Field(
        default=16, ge=1, validation_alias=AliasChoices("spark_shuffle_partitions", "LEC_SPARK_SHUFFLE_PARTITIONS")
    )
    # Set by spark-submit for the Python program it runs: then the master, the jars and the driver's memory are the
    # submitter's and the oracle adds only what Delta Lake needs to the session.
    spark_submit_gateway: int | None = Field(
        default=None, validation_alias=AliasChoices("spark_submit_gateway", "PYSPARK_GATEWAY_PORT")
    )
    # Any other Spark setting for sessions the oracle starts, as a JSON object (`{"spark.executor.memory": "8g"}`).
    spark_conf: dict[str, str] = Field(
        default_factory=dict, validation_alias=AliasChoices("spark_conf", "LEC_SPARK_CONF")
    )
    spark_source: str = Field(
        default="lake", pattern="^(lake|jdbc)$", validation_alias=AliasChoices("spark_source", "LEC_SPARK_SOURCE")
    )

    # The dApp: where it finds the API, and the realm it signs in with (defaults from the demo's file).
    api_url: str = Field(default=DEFAULT_API_URL, validation_alias=AliasChoices("api_url", "LEC_API_URL"))
    # The GSE incentive (docs/incentive.md): ARERA's unit amount for the valorisation of shared energy and its
    # year, and the zonal price used for hours without one in --prices (flagged as an approximation).
    incentive_valorisation_eur_mwh: str = Field(
        default="10.57",
        validation_alias=AliasChoices("incentive_valorisation_eur_mwh", "LEC_INCENTIVE_VALORISATION_EUR_MWH"),
    )
    incentive_valorisation_year: int = Field(
        default=2024, validation_alias=AliasChoices("incentive_valorisation_year", "LEC_INCENTIVE_VALORISATION_YEAR")
    )
    incentive_fallback_pzo_eur_mwh: str = Field(
        default="100",
        validation_alias=AliasChoices("incentive_fallback_pzo_eur_mwh", "LEC_INCENTIVE_FALLBACK_PZO_EUR_MWH"),
    )
    dapp_dev_identity: bool = Field(
        default=False, validation_alias=AliasChoices("dapp_dev_identity", "LEC_DEV_IDENTITY")
    )
    dapp_keycloak_url: str | None = Field(
        default=None, validation_alias=AliasChoices("dapp_keycloak_url", "LEC_KEYCLOAK_URL")
    )
    dapp_keycloak_realm: str | None = Field(
        default=None, validation_alias=AliasChoices("dapp_keycloak_realm", "LEC_KEYCLOAK_REALM")
    )
    dapp_keycloak_client: str | None = Field(
        default=None, validation_alias=AliasChoices("dapp_keycloak_client", "LEC_KEYCLOAK_CLIENT")
    )
    # The device map's optional basemap: an XYZ tile URL ("https://…/{z}/{x}/{y}.png") and its attribution. None by
    # default: the browser then fetches no tiles, so no third party learns where the community's devices are.
    dapp_map_tiles: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s]*\{z\}[^\s]*\{x\}[^\s]*\{y\}[^\s]*$",
        validation_alias=AliasChoices("dapp_map_tiles", "LEC_MAP_TILES"),
    )
    dapp_map_attribution: str = Field(
        default="", max_length=200, validation_alias=AliasChoices("dapp_map_attribution", "LEC_MAP_ATTRIBUTION")
    )
    # The demo's summary: the ports `make demo` served the API, the dApp and Keycloak on.
    demo_api_port: int = Field(default=8000, validation_alias=AliasChoices("demo_api_port", "API_PORT"))
    demo_dapp_port: int = Field(default=8501, validation_alias=AliasChoices("demo_dapp_port", "DAPP_PORT"))
    demo_keycloak_port: int = Field(default=8180, validation_alias=AliasChoices("demo_keycloak_port", "KEYCLOAK_PORT"))

    @property
    def issuer(self) -> str:
        """The `iss` Keycloak puts in this realm's tokens."""
        return f"{self.keycloak_url.rstrip('/')}/realms/{self.keycloak_realm}"

    @field_validator(
        "rate_limit_caller", "rate_limit_anonymous", "rate_limit_registrations", "rate_limit_wallet_challenges"
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from limits import parse_many

        if value.strip():
            try:
                parse_many(value)
            except ValueError as exc:
                raise SettingsError(
                    f"{value!r} is not a rate limit: write e.g. '120/minute' or '10 per 10 minutes;100/day'."
                ) from exc
        return value

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        if self.dev_identity and not is_loopback(self.host):
            raise SettingsError(
                f"The dev identity mode signs tokens with a local key and only runs on loopback, but the API is "
                f"bound to {self.host!r}. Bind it to 127.0.0.1 (LEC_API_HOST) or turn LEC_API_DEV_IDENTITY off."
            )
        if self.environment == "production":
            if self.dev_identity:
                raise SettingsError("LEC_API_DEV_IDENTITY cannot be on in production: use the real Keycloak.")
            if not self.keycloak_url.startswith("https://"):
                raise SettingsError(
                    f"In production Keycloak must be reached over https, not {self.keycloak_url!r}: "
                    "set LEC_API_KEYCLOAK_URL to the https address of the server."
                )
            if self.client_secret is None:
                raise SettingsError("In production set LEC_API_CLIENT_SECRET, the secret of the lec-api client.")
        return self


_ENV_PREFIXES = ("LEC_", "DATABASE_URL", "API_PORT", "DAPP_PORT", "KEYCLOAK_PORT")
_cache: dict[tuple[tuple[str, str], ...], Settings] = {}


def get_settings() -> Settings:
    """The settings of the current environment, read once and kept; read again only when a variable that
    concerns the platform changed (tests and the `lec` commands that set one for a child process)."""
    key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(_ENV_PREFIXES)))
    settings = _cache.get(key)
    if settings is None:
        _cache.clear()
        settings = _cache[key] = Settings()
    return settings


def environment() -> dict[str, str]:
    """A copy of the process environment, for starting a child process that must inherit it."""
    return dict(os.environ)


def data_dir() -> Path:
    """The folder for databases, period trees and salts (`LEC_DATA_DIR`, default `data/`), created if missing."""
    path = get_settings().data_dir
    path.mkdir(parents=True, exist_ok=True)
    return path


def lake_uri() -> str:
    """The Delta Lake's root (`LEC_LAKE`): a folder or an object-store URI; default `LEC_DATA_DIR/lake`."""
    return get_settings().lake or str((data_dir() / "lake").resolve())


def rpc_url() -> str:
    """The JSON-RPC endpoint of the chain node (`LEC_RPC_URL`)."""
    return get_settings().rpc_url


def deployments_dir() -> Path:
    """The folder of `deployments/<chainId>.json` (`LEC_DEPLOYMENTS_DIR`, default `deployments/`)."""
    return get_settings().deployments_dir
