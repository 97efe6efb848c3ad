"""Settings of every process (CLI, worker, gateway), from `CONSULT_*` environment variables.

Workflows never read these: what a workflow needs travels in its input, and
secrets (SMTP password, later signing keys) are used only by activities and
the gateway.
"""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# The task queue workers poll and consultations start on, unless CONSULT_TASK_QUEUE says otherwise.
TASK_QUEUE = "consultations"

if TYPE_CHECKING:  # PyJWT and cryptography load only where links are signed or checked
    from infra.links import LinkSigner


class SmtpSettings(BaseSettings):
    """Outgoing mail. The defaults point at the SMTP sink of `consult dev`."""

    model_config = SettingsConfigDict(env_prefix="CONSULT_SMTP_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8025
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    use_tls: bool = False
    timeout_seconds: float = 30.0
    sender: str = "Consultations <consultations@consult.localhost>"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSULT_", extra="ignore")

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    # A profile of the SDK's `temporal.toml` (TLS, mTLS, API key...); TEMPORAL_* variables apply too.
    temporal_profile: str | None = None
    # Port for the worker's Prometheus metrics (none when unset).
    metrics_port: int | None = None
    task_queue: str = TASK_QUEUE
    # Where the links in emails point (the gateway's public address).
    gateway_url: str = "http://127.0.0.1:8000"
    # `kid:secret,kid:secret`: the first signs email links, all verify (rotation).
    # Only the worker's mail activity and the gateway read it.
    link_keys: SecretStr | None = None
    # `email:N,...`: an operator's calendar feed URLs numbered N or lower are refused (revoked);
    # `consult calendar-url` numbers the next one N+1. Rotating the link keys revokes every URL.
    calendar_revoked: str = ""
    # `kid:base64key,...` (AES-256): when set, every payload is encrypted; the first key encrypts.
    payload_keys: SecretStr | None = None
    # Bearer token the Temporal UI sends to the gateway's codec endpoint, and the UI's origin (CORS).
    codec_token: SecretStr | None = None
    ui_origin: str = "http://localhost:8080"
    # JSON lines for machines; `consult dev` always writes console lines for people.
    log_format: Literal["console", "json"] = "json"
    log_level: str = "INFO"
    data_dir: Path = Path(".consult")
    # Where External Storage keeps attached files and large payloads: `fs` (a folder every process on
    # this machine shares) or `s3` (an S3-compatible bucket, CONSULT_S3_*).
    storage: Literal["fs", "s3"] = "fs"
    # The `fs` store's folder. The default is one folder per user, whatever the current directory
    # (`$XDG_DATA_HOME/consult/storage`, else `~/.local/share/consult/storage`): `consult dev` and a
    # CLI in another shell and folder attach and read files in the same place.
    storage_dir: Path | None = None
    # The `s3` store: the bucket (it must exist), an S3-compatible endpoint (MinIO, Ceph...; none for
    # AWS itself) and the region. Credentials come only from the standard AWS chain (AWS_ACCESS_KEY_ID
    # and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws, an instance or task role): never from here.
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None

    @property
    def storage_root(self) -> Path:
        if self.storage_dir is not None:
            return self.storage_dir.resolve()
        data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return (Path(data_home) / "consult" / "storage").resolve()

    @cached_property
    def smtp(self) -> SmtpSettings:
        return SmtpSettings()

    def link_signer(self) -> LinkSigner:
        from infra.links import LinkSigner, parse_keys

        if self.link_keys is None:
            raise ValueError("CONSULT_LINK_KEYS is not set: the worker and the gateway need it to sign and check links")
        return LinkSigner(parse_keys(self.link_keys.get_secret_value()))

    def dev_link_signer(self, data_dir: Path, *, create: bool) -> LinkSigner:
        """CONSULT_LINK_KEYS if set; otherwise the key `consult dev` keeps in its data directory (made
        there once with `create`, so links survive a restart)."""
        from infra.links import DEV_KEYS_FILE, LinkSigner, parse_keys

        if self.link_keys is not None:
            return self.link_signer()
        key_file = data_dir / DEV_KEYS_FILE
        if create and not key_file.exists():
            key_file.write_text(f"dev-{secrets.token_hex(4)}:{secrets.token_urlsafe(48)}\n")
            key_file.chmod(0o600)
        if not key_file.is_file():
            return self.link_signer()  # says that CONSULT_LINK_KEYS is not set
        return LinkSigner(parse_keys(key_file.read_text().strip()))

    def revoked_feeds(self) -> dict[str, int]:
        """CONSULT_CALENDAR_REVOKED: the last revoked feed URL number of each operator (ValueError if unreadable)."""
        from infra.links import parse_revoked

        return parse_revoked(self.calendar_revoked)
