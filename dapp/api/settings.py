"""All of the API's configuration in one pydantic-settings class, read from the environment (or `.env`).

Variables are prefixed `LEC_API_` except the ones the whole platform shares (`DATABASE_URL`, `LEC_RPC_URL`,
`LEC_DEPLOYMENTS_DIR`, `LEC_DATA_DIR`). The dev identity mode (a local Keycloak-compatible issuer for the demo)
is off unless asked for and refuses any host that is not loopback.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    # Clock skew tolerated on `exp`/`nbf`, and the minimum time between two fetches of the realm's keys
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

    dev_identity: bool = False

    # Sign-In-With-Ethereum: the domain and URI the dApp presents in the EIP-4361 message.
    siwe_domain: str = "localhost:8501"
    siwe_uri: str = "http://localhost:8501"
    siwe_nonce_ttl_seconds: int = Field(default=600, gt=0, le=86400)
    chain_id: int = 1981

    # On-chain membership: the community admin's key, from the environment or an encrypted keystore file.
    community_admin_private_key: SecretStr | None = None
    community_admin_keystore: Path | None = None
    community_admin_keystore_password: SecretStr | None = None

    # Shared with the oracle (no prefix).
    database_url: str | None = Field(default=None, validation_alias=AliasChoices("DATABASE_URL"))
    rpc_url: str = Field(default="http://127.0.0.1:8545", validation_alias=AliasChoices("LEC_RPC_URL"))
    deployments_dir: Path = Field(default=Path("deployments"), validation_alias=AliasChoices("LEC_DEPLOYMENTS_DIR"))

    @property
    def issuer(self) -> str:
        """The `iss` Keycloak puts in this realm's tokens."""
        return f"{self.keycloak_url.rstrip('/')}/realms/{self.keycloak_realm}"

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
