"""TOML configuration → validated Settings (design 1.2).

Secrets may be given as `<name>`, `<name>_env` or `<name>_cmd`; they are resolved at load and held
as SecretStr so that no repr, log line or error message can show them. Every error names the
file, the account and the key, and nothing starts on a bad config.
"""

from __future__ import annotations

import os
import ssl
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    SerializeAsAny,
    ValidationError,
    field_validator,
)

from calltui.providers import registry

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

ENV_CONFIG = "CALLTUI_CONFIG"


class ConfigError(Exception):
    def __init__(self, path: Path | str, where: str, message: str) -> None:
        self.path, self.where, self.message = str(path), where, message
        super().__init__(f"{path}: {where}: {message}" if where else f"{path}: {message}")


def default_config_path() -> Path:
    if os.environ.get(ENV_CONFIG):
        return Path(os.environ[ENV_CONFIG]).expanduser()
    from platformdirs import user_config_path

    return user_config_path("calltui") / "config.toml"


def config_dir(config_path: Path | None = None) -> Path:
    return (config_path or default_config_path()).parent


def _zone(v: str) -> str:
    if v.lower() == "local":
        return "local"
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{v!r} is not 'local', 'UTC' or an IANA time zone name") from None
    return v


def _url(v: str) -> str:
    parts = urlsplit(v)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise ValueError("must not carry credentials: give them in their own keys")
    if parts.query or parts.fragment:
        raise ValueError("must not carry a query or a fragment")
    return v.rstrip("/")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AccountBase(_Strict):
    """What every account takes; each provider's model (Provider.ACCOUNT, in its module) adds
    its credentials and options."""

    CREDENTIAL_IDS: ClassVar[tuple[str, ...]] = ()
    """Fields that are no secret but half of a credential (Plivo's auth_id): a redacted bundle
    removes their values as it does the secrets'."""

    name: str
    provider: str
    base_url: str | None = None
    timeout_s: float = Field(20.0, gt=0, le=600)
    max_concurrency: int = Field(4, ge=1, le=64)
    rate_limit: float | None = Field(None, gt=0, description="requests per second")
    page_size: int | None = Field(None, ge=1)
    verify_tls: bool = True
    ca_bundle: str | None = None
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _check_zone(cls, v: str) -> str:
        return _zone(v)

    @field_validator("base_url")
    @classmethod
    def _check_url(cls, v: str | None) -> str | None:
        return None if v is None else _url(v)

    @field_validator("ca_bundle")
    @classmethod
    def _check_ca(cls, v: str | None) -> str | None:
        if v is None:
            return v
        path = Path(v).expanduser()
        if not path.is_file():
            raise ValueError(f"{v!r} is not a readable file")
        try:
            ssl.create_default_context(cafile=str(path))
        except (ssl.SSLError, OSError):
            raise ValueError(f"{v!r} holds no PEM certificate") from None
        return str(path)

    def zone(self) -> ZoneInfo:
        return ZoneInfo("UTC") if self.timezone == "local" else ZoneInfo(self.timezone)

    def secrets(self) -> list[str]:
        """Every secret value of this account, for the redaction of outputs."""
        out = []
        for name in type(self).model_fields:
            v = getattr(self, name)
            if isinstance(v, SecretStr) and v.get_secret_value():
                out.append(v.get_secret_value())
        return out

    def credential_ids(self) -> list[str]:
        """The values of CREDENTIAL_IDS this account gives."""
        values = (getattr(self, name, None) for name in self.CREDENTIAL_IDS)
        return [v for v in values if isinstance(v, str) and v]


class Display(_Strict):
    timezone: str = "local"
    theme: str = "calltui-dark"

    @field_validator("timezone")
    @classmethod
    def _check_zone(cls, v: str) -> str:
        return _zone(v)


class Limits(_Strict):
    max_records: int = Field(1_000_000, ge=1000)


class Settings(_Strict):
    display: Display = Field(default_factory=Display)
    limits: Limits = Field(default_factory=Limits)
    keys: dict[str, str] = {}
    accounts: dict[str, SerializeAsAny[AccountBase]] = {}
    """Each of its provider's model (Provider.ACCOUNT), validated by parse_settings."""
    path: str | None = None
    warnings: tuple[str, ...] = ()

    def secrets(self) -> list[str]:
        return [s for a in self.accounts.values() for s in a.secrets()]


def _run_secret_cmd(cmd: str, where: str, path: Path) -> str:
    try:
        done = subprocess.run(
            cmd, shell=True, capture_output=True, text=True, timeout=15, check=False
        )
    except subprocess.TimeoutExpired:
        raise ConfigError(path, where, "the command did not finish within 15 s") from None
    if done.returncode != 0:
        # Its output may hold the secret or part of it: say only that it failed.
        raise ConfigError(path, where, f"the command failed with exit status {done.returncode}")
    value = done.stdout.strip()
    if not value:
        raise ConfigError(path, where, "the command printed nothing")
    return value


def _resolve_secrets(raw: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        where = f"accounts.{name}.{key}"
        if key.endswith("_env"):
            base = key[:-4]
            if not isinstance(value, str):
                raise ConfigError(path, where, "must be the name of an environment variable")
            if value not in os.environ or not os.environ[value]:
                raise ConfigError(path, where, f"environment variable {value} is not set")
            out[base] = os.environ[value]
        elif key.endswith("_cmd"):
            if not isinstance(value, str):
                raise ConfigError(path, where, "must be a shell command")
            out[key[:-4]] = _run_secret_cmd(value, where, path)
        else:
            out[key] = value
    return out


def _first_error(e: ValidationError, path: Path, prefix: str) -> ConfigError:
    err = e.errors()[0]
    loc = [str(p) for p in err["loc"] if not str(p).startswith("function-")]
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "missing":
        msg = "is required"
    return ConfigError(path, ".".join(p for p in [prefix, *loc] if p), msg)


def parse_settings(data: dict[str, Any], path: Path) -> Settings:
    accounts_raw = data.get("accounts", {})
    if not isinstance(accounts_raw, dict):
        raise ConfigError(path, "accounts", "must be a table of [accounts.NAME] tables")
    accounts: dict[str, AccountBase] = {}
    for name, raw in accounts_raw.items():
        if not isinstance(raw, dict):
            raise ConfigError(path, f"accounts.{name}", "must be a table")
        provider = raw.get("provider")
        known = registry.names()
        if provider not in known:
            raise ConfigError(
                path, f"accounts.{name}.provider", f"{provider!r} is not one of {', '.join(known)}"
            )
        cls = registry.get(provider)
        if cls.DEFAULT_BASE_URL is None and not raw.get("base_url"):
            raise ConfigError(path, f"accounts.{name}.base_url", f"is required for {provider}")
        resolved = _resolve_secrets(raw, name, path)
        try:
            accounts[name] = cls.ACCOUNT.model_validate({**resolved, "name": name})
        except ValidationError as e:
            raise _first_error(e, path, f"accounts.{name}") from None
    rest = {k: v for k, v in data.items() if k != "accounts"}
    try:
        return Settings.model_validate({**rest, "accounts": accounts, "path": str(path)})
    except ValidationError as e:
        raise _first_error(e, path, "") from None


def load_settings(path: Path | None = None, *, required: bool = True) -> Settings:
    path = path or default_config_path()
    if not path.exists():
        if required:
            raise ConfigError(path, "", "no such file: run `calltui config init` to create one")
        return Settings(path=str(path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(path, "", f"not valid TOML: {e}") from None
    except OSError as e:
        raise ConfigError(path, "", f"cannot read: {e.strerror}") from None
    settings = parse_settings(data, path)
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        warning = (
            f"{path}: readable by group or others (mode {stat.S_IMODE(mode):o}); "
            f"it may hold secrets: chmod 600 {path}"
        )
        settings = settings.model_copy(update={"warnings": (*settings.warnings, warning)})
    return settings


TEMPLATE_HEAD = """\
# calltui configuration. Secrets may be given as <name>, <name>_env (an environment variable)
# or <name>_cmd (a shell command that prints it). Keep this file private (mode 0600).

[display]
timezone = "local"              # or "UTC", or an IANA name; how times are shown
theme = "calltui-dark"

# [keys]                        # remap any binding by its id, e.g.
# failed_only = "f,ctrl+f"
"""


def template() -> str:
    """What `calltui config init` writes: the display settings, then every provider's
    commented-out example account (Provider.CONFIG_EXAMPLE), in the registry's order."""
    examples = (registry.get(name).CONFIG_EXAMPLE for name in registry.names())
    return "\n".join((TEMPLATE_HEAD, *examples))


def write_template(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(template())
