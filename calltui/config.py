"""TOML configuration → validated Settings.

Secrets may be given as `<name>`, `<name>_env` or `<name>_cmd`; they are resolved at load and held
as SecretStr so that no repr, log line or error message can show them. Every error names the
file, the account and the key, and nothing starts on a bad config. The file `calltui config init`
writes is calltui.config_template's.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import ssl
import stat
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, get_args
from urllib.parse import SplitResult, urlsplit
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

from calltui.columns import DEFAULT_DISPLAY, tui_columns
from calltui.http import AuthError
from calltui.http_env import PROXY_VARIABLES, proxy_problem
from calltui.providers import registry

if TYPE_CHECKING:
    from calltui.alerts import AlertPolicy

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

ENV_CONFIG = "CALLTUI_CONFIG"
SUFFIXES = ("_env", "_cmd")
"""A secret `<name>` may be given as `<name>_env` (an environment variable) or `<name>_cmd`."""
INTERNAL = frozenset({"path", "warnings"})
"""Settings fields that calltui fills in, never the file."""


class ConfigError(Exception):
    """What is wrong, where: `path` the file (empty for the environment), `where` the key."""

    def __init__(self, path: Path | str, where: str, message: str) -> None:
        self.path, self.where, self.message = str(path), where, message
        super().__init__(": ".join(p for p in (self.path, where, message) if p))


class SecretUnavailable(AuthError):
    """The error of an account whose secret could not be read (its ConfigError, `error`): what
    reads the secret to use it raises this, so that account fails alone as a value, the way a
    provider error does, and is not tried again until the config changes."""

    kind = "config"

    def __init__(self, account: str, error: ConfigError) -> None:
        self.error = error
        super().__init__(account, f"{error.where}: {error.message}")


class UnreadableSecret(SecretStr):
    """A secret the config gives as `_env` or `_cmd` that could not be read. The account keeps
    its place (the sidebar shows it failed, the other accounts run); reading the value raises
    SecretUnavailable, so nothing can be sent with a made-up credential."""

    def __init__(self, account: str, error: ConfigError) -> None:
        super().__init__("")
        self.account, self.error = account, error

    def get_secret_value(self) -> str:
        raise SecretUnavailable(self.account, self.error)

    def _display(self) -> str:
        return "(unreadable)"

    def __eq__(self, other: object) -> bool:
        return other is self

    def __hash__(self) -> int:
        return id(self)


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
    # urlsplit drops tabs and line breaks silently, and the HTTP client refuses what it let
    # through (a CRLF, a percent-encoded host, a port past 65535) only once a request is made.
    if any(ch.isspace() or not ch.isprintable() for ch in v):
        raise ValueError("must not hold spaces, line breaks or control characters")
    parts = urlsplit(v)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise ValueError("must not carry credentials: give them in their own keys")
    if parts.query or parts.fragment:
        raise ValueError("must not carry a query or a fragment")
    _check_host_and_port(parts)
    return v.rstrip("/")


def _check_host_and_port(parts: SplitResult) -> None:
    host = parts.hostname or ""
    if parts.netloc.rpartition("@")[2].startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"[{host}] is not an IPv6 address") from None
    elif not all(ch.isalnum() or ch in "-._" for ch in host):
        raise ValueError(f"{host!r} is not a host name (letters, digits, '-', '_' and '.')")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError("the port must be a number from 1 to 65535")


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
    timeout_s: float = Field(20.0, gt=0, le=600, allow_inf_nan=False)
    max_concurrency: int = Field(4, ge=1, le=64)
    rate_limit: float | None = Field(
        None, gt=0, allow_inf_nan=False, description="requests per second"
    )
    page_size: int | None = Field(None, ge=1)
    # The bounds of one listing (calltui.engine): a server that always has one more page must
    # not make `calls --all` run forever. Generous: 10,000 pages are 200,000 Plivo calls.
    max_pages: int = Field(10_000, ge=1)
    max_listing_s: float = Field(900.0, gt=0, allow_inf_nan=False)
    verify_tls: bool = True
    ca_bundle: str | None = None
    timezone: str = "UTC"
    secret_vars: dict[str, str] = {}
    """The environment variable each secret given as `<name>_env` was read from (copy as curl
    writes it); filled in by calltui, never given in the file."""

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
            readable = isinstance(v, SecretStr) and not isinstance(v, UnreadableSecret)
            if readable and v.get_secret_value():
                out.append(v.get_secret_value())
        return out

    def secret_errors(self) -> list[ConfigError]:
        """Why each of this account's secrets that could not be read could not (none: the
        account is usable)."""
        values = (getattr(self, name) for name in type(self).model_fields)
        return [v.error for v in values if isinstance(v, UnreadableSecret)]

    def credential_ids(self) -> list[str]:
        """The values of CREDENTIAL_IDS this account gives."""
        values = (getattr(self, name, None) for name in self.CREDENTIAL_IDS)
        return [v for v in values if isinstance(v, str) and v]


class Display(_Strict):
    timezone: str = "local"
    theme: str = "calltui-dark"
    glyphs: Literal["auto", "unicode", "ascii"] = "auto"
    columns: tuple[str, ...] = DEFAULT_DISPLAY

    @field_validator("columns")
    @classmethod
    def _check_columns(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        tui_columns(v)
        return tuple(name.strip().lower() for name in v)

    @field_validator("timezone")
    @classmethod
    def _check_zone(cls, v: str) -> str:
        return _zone(v)


class Limits(_Strict):
    max_records: int = Field(1_000_000, ge=1000)


class Alerts(_Strict):
    """Live tail's alerts: a group's ASR falling or its PDD rising against its baseline."""

    model_config = ConfigDict(allow_inf_nan=False)
    asr_drop_points: float = Field(15.0, gt=0, le=100)
    min_attempts: int = Field(20, ge=1)
    pdd_rise_s: float = Field(2.0, gt=0)
    by: list[str] = ["account", "trunk"]
    bell: bool = True

    @field_validator("by")
    @classmethod
    def _check_by(cls, v: list[str]) -> list[str]:
        # Imported only when a config gives `by` (defaults are not validated): the group
        # fields are analysis's, which start-up does not need.
        from calltui.analysis.groups import parse_by

        return parse_by(v)

    def policy(self) -> AlertPolicy:
        # Imported here: the analysis behind alerts is not needed to start.
        from calltui.alerts import AlertPolicy

        return AlertPolicy(
            asr_drop_points=self.asr_drop_points,
            min_attempts=self.min_attempts,
            pdd_rise_s=self.pdd_rise_s,
            by=tuple(self.by),
            bell=self.bell,
        )


class SavedView(_Strict):
    """`[views.NAME]`: a view spec kept under a name (`--view NAME`, the palette)."""

    spec: str

    @field_validator("spec")
    @classmethod
    def _check_spec(cls, v: str) -> str:
        from calltui.viewspec import parse

        parse(v)
        return v.strip()


class Settings(_Strict):
    display: Display = Field(default_factory=Display)
    limits: Limits = Field(default_factory=Limits)
    alerts: Alerts = Field(default_factory=Alerts)
    views: dict[str, SavedView] = {}
    keys: dict[str, str] = {}
    accounts: dict[str, SerializeAsAny[AccountBase]] = {}
    """Each of its provider's model (Provider.ACCOUNT), validated by parse_settings."""
    path: str | None = None
    warnings: tuple[str, ...] = ()

    def secrets(self) -> list[str]:
        return [s for a in self.accounts.values() for s in a.secrets()]


def _run_secret_cmd(cmd: str, where: str, path: Path) -> str:
    try:
        done = subprocess.run(cmd, shell=True, capture_output=True, timeout=15, check=False)
    except subprocess.TimeoutExpired:
        raise ConfigError(path, where, "the command did not finish within 15 s") from None
    except (OSError, ValueError):  # no shell, a NUL in the command
        raise ConfigError(path, where, "the command cannot be run") from None
    if done.returncode != 0:
        # Its output may hold the secret or part of it: say only that it failed.
        raise ConfigError(path, where, f"the command failed with exit status {done.returncode}")
    try:
        value = done.stdout.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ConfigError(path, where, "the command printed what is not UTF-8 text") from None
    if not value:
        raise ConfigError(path, where, "the command printed nothing")
    return value


def _checked_secret(value: str, where: str, path: Path) -> str:
    """`value` as a secret an HTTP header can carry. Never shown: only what is wrong with it."""
    if any("\ud800" <= ch <= "\udfff" for ch in value):  # how os.environ holds invalid UTF-8
        raise ConfigError(path, where, "the secret is not UTF-8 text")
    if not value.isprintable():
        # Usually a command that printed more than the secret (`pass show` prints notes after it).
        raise ConfigError(path, where, "the secret holds a line break or a control character")
    return value


def _secret_fields(model: type[AccountBase]) -> set[str]:
    return {
        name
        for name, f in model.model_fields.items()
        if SecretStr in (f.annotation, *get_args(f.annotation))
    }


def did_you_mean(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.7)
    return f" (did you mean {close[0]}?)" if close else ""


def _check_account_keys(
    raw: dict[str, Any], model: type[AccountBase], name: str, path: Path
) -> None:
    """Unknown keys and a secret given twice, named before any secret is read: `pasword_env`
    is reported as itself, not as a missing `password`, and its command is not run."""
    secrets = _secret_fields(model)
    known = (set(model.model_fields) - {"name", "secret_vars"}) | {
        s + end for s in secrets for end in SUFFIXES
    }
    for key in raw:
        if key not in known:
            where = f"accounts.{name}.{key}"
            raise ConfigError(path, where, "unknown key" + did_you_mean(key, known))
    for secret in sorted(secrets):
        given = [k for k in (secret, *(secret + end for end in SUFFIXES)) if k in raw]
        if len(given) > 1:
            raise ConfigError(
                path, f"accounts.{name}.{given[1]}", f"give one of {' and '.join(given)}, not both"
            )


def _resolve_secrets(raw: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    """The account's keys with each `<name>_env` and `<name>_cmd` read into `<name>`: a
    SecretStr, or an UnreadableSecret saying why it could not be read."""
    out: dict[str, Any] = {}
    read_from: dict[str, str] = {}
    for key, value in raw.items():
        where = f"accounts.{name}.{key}"
        if not key.endswith(SUFFIXES):
            out[key] = value
            continue
        env = key.endswith("_env")
        if not isinstance(value, str):
            what = "the name of an environment variable" if env else "a shell command"
            raise ConfigError(path, where, f"must be {what}")
        try:
            if env:
                read_from[key[:-4]] = value
                if not os.environ.get(value):
                    raise ConfigError(path, where, f"environment variable {value} is not set")
                secret = os.environ[value]
            else:
                secret = _run_secret_cmd(value, where, path)
            out[key[:-4]] = SecretStr(_checked_secret(secret, where, path))
        except ConfigError as e:
            out[key[:-4]] = UnreadableSecret(name, e)
    if read_from:
        out["secret_vars"] = read_from
    return out


def _first_error(e: ValidationError, path: Path, prefix: str) -> ConfigError:
    err = e.errors()[0]
    loc = [str(p) for p in err["loc"] if not str(p).startswith("function-")]
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key" + did_you_mean(loc[-1], _fields_at(loc[:-1]))
    elif err["type"] == "missing":
        msg = "is required"
    return ConfigError(path, ".".join(p for p in [prefix, *loc] if p), msg)


def _fields_at(loc: list[str]) -> set[str]:
    """The keys the table at `loc` of the settings takes (for a hint on a misspelt one)."""
    model: Any = Settings
    for part in loc:
        field = model.model_fields.get(part)
        model = field.annotation if field is not None else None
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return set()
    return set(model.model_fields) - INTERNAL


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
        _check_account_keys(raw, cls.ACCOUNT, name, path)
        if cls.DEFAULT_BASE_URL is None and not raw.get("base_url"):
            raise ConfigError(path, f"accounts.{name}.base_url", f"is required for {provider}")
        for secret in _secret_fields(cls.ACCOUNT):
            if isinstance(raw.get(secret), str):
                _checked_secret(raw[secret], f"accounts.{name}.{secret}", path)
        resolved = _resolve_secrets(raw, name, path)
        try:
            accounts[name] = cls.ACCOUNT.model_validate({**resolved, "name": name})
        except ValidationError as e:
            raise _first_error(e, path, f"accounts.{name}") from None
        except SecretUnavailable as e:  # a provider's validator that reads a secret
            raise e.error from None
    rest = {k: v for k, v in data.items() if k != "accounts"}
    for key in rest.keys() & INTERNAL:
        raise ConfigError(path, key, "unknown key")
    try:
        return Settings.model_validate({**rest, "accounts": accounts, "path": str(path)})
    except ValidationError as e:
        raise _first_error(e, path, "") from None


NO_CONFIG = (
    "no such file: run `calltui config init` to create one, or `calltui --demo` to try calltui "
    "on its built-in simulator (no network, no credentials)"
)


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(path, "", f"not valid TOML: {e}") from None
    except UnicodeDecodeError:
        raise ConfigError(path, "", "not valid TOML: not UTF-8 text") from None
    except OSError as e:
        raise ConfigError(path, "", f"cannot read: {e.strerror}") from None


def load_settings(path: Path | None = None, *, required: bool = True) -> Settings:
    path = path or default_config_path()
    if not path.exists():
        if required:
            raise ConfigError(path, "", NO_CONFIG)
        return Settings(path=str(path))
    data = _read(path)
    check_proxies()
    settings = parse_settings(data, path)
    warnings = (*settings.warnings, *permission_warnings(path))
    return settings.model_copy(update={"warnings": warnings})


def with_accounts(
    path: Path | None, accounts: dict[str, dict[str, Any]], *, required: bool = False
) -> Settings:
    """The settings of the config at `path` (the default one if None) but its accounts, which
    `accounts` replace: `--demo` keeps the user's [display], [keys], [alerts] and [limits].
    The config's own accounts are not read, so none of their secret commands runs. An absent
    file (allowed unless `required`) gives the defaults."""
    where = path or default_config_path()
    data: dict[str, Any] = {}
    if where.exists() or required:
        if not where.exists():
            raise ConfigError(where, "", NO_CONFIG)
        data = {k: v for k, v in _read(where).items() if k != "accounts"}
    return parse_settings({**data, "accounts": accounts}, where)


def permission_warnings(path: Path) -> list[str]:
    """What others could read or change: the file (it may hold secrets), or the directory it
    is in (whoever can write there can put another file in its place, with other `_cmd`
    commands, which calltui then runs). A sticky directory (/tmp) keeps others from that."""
    out = []
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        out.append(
            f"{path}: readable by group or others (mode {stat.S_IMODE(mode):o}); "
            f"it may hold secrets: chmod 600 {path}"
        )
    folder = path.absolute().parent
    mode = folder.stat().st_mode
    if mode & (stat.S_IWGRP | stat.S_IWOTH) and not mode & stat.S_ISVTX:
        out.append(
            f"{folder}: writable by group or others (mode {stat.S_IMODE(mode):o}); they could "
            f"replace {path.name} and the commands it runs: chmod go-w {folder}"
        )
    return out


def check_proxies(environ: Mapping[str, str] = os.environ) -> None:
    """A ConfigError naming the variable whose proxy the HTTP client could not use: it would
    fail each request with an error that names no proxy (or, for SOCKS without its package,
    fail to start). The value is never shown: a proxy URL may carry a password."""
    for var, value in environ.items():
        if var.upper() in PROXY_VARIABLES and value.strip():
            problem = proxy_problem(value.strip())
            if problem:
                raise ConfigError("", f"{var} (environment)", problem)
