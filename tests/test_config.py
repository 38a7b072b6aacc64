"""Configuration: TOML accounts, secrets from value/_env/_cmd, errors naming file, account, key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from calltui.config import ConfigError, load_settings
from calltui.config_template import write_template

GOOD = """
[display]
timezone = "UTC"

[accounts.sbc]
provider = "tmedia"
base_url = "https://10.1.2.3:12358"
username = "api"
password_env = "SBC_PASSWORD"
verify_tls = false
timezone = "Europe/Moscow"

[accounts.plivo-prod]
provider = "plivo"
auth_id = "MAXXXXXXXXXXXXXXXXXX"
auth_token_cmd = "printf 's3cr3t-from-cmd'"

[accounts.bw]
provider = "bandwidth"
user_id = "u-abc"
api_token = "t-abc"
api_secret = "inline-secret"

[accounts.rc]
provider = "restcomm"
base_url = "https://restcomm.example.net/restcomm"
account_sid = "AC1"
auth_token = "tok"

[accounts.jz]
provider = "jambonz"
service_provider_sid = "sp-1"
api_key = "key-1"
"""


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(text)
    p.chmod(mode)
    return p


def test_accounts_load_with_secrets_from_value_env_and_cmd(tmp_path, monkeypatch):
    monkeypatch.setenv("SBC_PASSWORD", "pw-from-env")
    s = load_settings(write(tmp_path, GOOD))
    assert list(s.accounts) == ["sbc", "plivo-prod", "bw", "rc", "jz"]
    assert s.accounts["sbc"].password.get_secret_value() == "pw-from-env"  # type: ignore[union-attr]
    assert s.accounts["plivo-prod"].auth_token.get_secret_value() == "s3cr3t-from-cmd"  # type: ignore[union-attr]
    assert s.accounts["sbc"].verify_tls is False
    assert str(s.accounts["sbc"].zone()) == "Europe/Moscow"
    assert set(s.secrets()) == {
        "pw-from-env",
        "s3cr3t-from-cmd",
        "t-abc",
        "inline-secret",
        "tok",
        "key-1",
    }
    assert s.warnings == ()


def test_secrets_never_show_in_repr(tmp_path, monkeypatch):
    monkeypatch.setenv("SBC_PASSWORD", "pw-from-env")
    s = load_settings(write(tmp_path, GOOD))
    assert "pw-from-env" not in repr(s) and "inline-secret" not in str(s)


def test_config_readable_by_others_draws_a_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("SBC_PASSWORD", "x")
    s = load_settings(write(tmp_path, GOOD, 0o644))
    assert len(s.warnings) == 1 and "chmod 600" in s.warnings[0]


@pytest.mark.parametrize(
    ("snippet", "where", "message"),
    [
        (
            '[accounts.a]\nprovider = "tmedia"\nusername = "u"\npassword = "p"\n',
            "accounts.a.base_url",
            "required",
        ),
        (
            '[accounts.a]\nprovider = "plivo"\nauth_id = "x"\nauth_token = "y"\ncolour = 1\n',
            "accounts.a.colour",
            "unknown key",
        ),
        ('[accounts.a]\nprovider = "plivo"\nauth_id = "x"\n', "accounts.a.auth_token", "required"),
        (
            '[accounts.a]\nprovider = "plivo"\nauth_id = "x"\nauth_token = "y"\nbase_url = "ftp://x"\n',
            "accounts.a.base_url",
            "http",
        ),
        (
            '[accounts.a]\nprovider = "plivo"\nauth_id = "x"\nauth_token = "y"\n'
            'timezone = "Mars/Base"\n',
            "accounts.a.timezone",
            "IANA",
        ),
        ('[accounts.a]\nprovider = "sip"\n', "accounts.a.provider", "not one of"),
        ('[accounts.a]\nprovider = "jambonz"\napi_key = "k"\n', "accounts.a", "exactly one of"),
        ('[display]\ntimezone = "Nowhere/City"\n', "display.timezone", "IANA"),
        (
            # Named before any secret is read: not reported as a missing `password`.
            '[accounts.a]\nprovider = "tmedia"\nbase_url = "https://h"\nusername = "u"\n'
            'pasword_env = "X"\n',
            "accounts.a.pasword_env",
            "unknown key (did you mean password_env?)",
        ),
        (
            '[accounts.a]\nprovider = "tmedia"\nbase_url = "https://h"\nusername = "u"\n'
            'password = "p"\npassword_cmd = "echo p"\n',
            "accounts.a.password_cmd",
            "give one of password and password_cmd, not both",
        ),
        ("[dispaly]\n", "dispaly", "unknown key (did you mean display?)"),
        ('[display]\nthem = "x"\n', "display.them", "unknown key (did you mean theme?)"),
        ('path = "/etc"\n', "path", "unknown key"),
        ("[alerts]\nasr_drop_points = 0\n", "alerts.asr_drop_points", "greater than 0"),
        ("[alerts]\npdd_rise_s = inf\n", "alerts.pdd_rise_s", "finite"),
        ("[alerts]\nmin_attempts = 0\n", "alerts.min_attempts", "greater than or equal to 1"),
        ('[alerts]\nby = ["acount"]\n', "alerts.by", "unknown group field 'acount'"),
        ("[alerts]\nbel = false\n", "alerts.bel", "unknown key (did you mean bell?)"),
        ('[display]\nglyphs = "emoji"\n', "display.glyphs", "'auto', 'unicode' or 'ascii'"),
        ('[display]\ncolumns = ["time", "sip"]\n', "display.columns", "unknown column 'sip'"),
        ('[display]\ncolumns = ["to", "To"]\n', "display.columns", "column 'To' given twice"),
        ("[display]\ncolumns = []\n", "display.columns", "no column given"),
    ],
)
def test_errors_name_the_file_the_account_and_the_key(tmp_path, snippet, where, message):
    path = write(tmp_path, snippet)
    with pytest.raises(ConfigError) as e:
        load_settings(path)
    assert e.value.path == str(path)
    assert e.value.where == where
    assert message in e.value.message


def test_failing_secret_command_is_reported_without_its_output(tmp_path):
    path = write(
        tmp_path,
        '[accounts.a]\nprovider = "plivo"\nauth_id = "x"\n'
        'auth_token_cmd = "echo leaked-token-fragment; exit 3"\n',
    )
    (error,) = load_settings(path).accounts["a"].secret_errors()
    assert error.where == "accounts.a.auth_token_cmd"
    assert "exit status 3" in str(error)
    assert "leaked-token-fragment" not in str(error)


def test_an_unset_secret_variable_fails_its_account_alone(tmp_path):
    path = write(
        tmp_path,
        '[accounts.a]\nprovider = "plivo"\nauth_id = "x"\nauth_token_env = "NOPE_NOT_SET"\n'
        '[accounts.b]\nprovider = "plivo"\nauth_id = "y"\nauth_token = "tok-b"\n',
    )
    s = load_settings(path)
    (error,) = s.accounts["a"].secret_errors()
    assert (error.path, error.where) == (str(path), "accounts.a.auth_token_env")
    assert "NOPE_NOT_SET is not set" in error.message
    assert s.accounts["b"].secret_errors() == [] and s.secrets() == ["tok-b"]


def test_alerts_come_from_the_config_with_the_documented_defaults(tmp_path):
    default = load_settings(write(tmp_path, "")).alerts.policy()
    assert (default.asr_drop_points, default.min_attempts, default.pdd_rise_s) == (15, 20, 2.0)
    assert default.by == ("account", "trunk") and default.bell
    path = write(
        tmp_path, '[alerts]\nasr_drop_points = 25\nby = ["trunk", "Prefix:04"]\nbell = false\n'
    )
    policy = load_settings(path).alerts.policy()
    assert policy.asr_drop_points == 25 and policy.min_attempts == 20
    assert policy.by == ("trunk", "prefix:4") and not policy.bell


def test_display_columns_and_glyphs(tmp_path):
    display = load_settings(write(tmp_path, "")).display
    assert display.glyphs == "auto"
    assert display.columns[:5] == ("time", "account", "from", "to", "trunk")
    path = write(tmp_path, '[display]\nglyphs = "ascii"\ncolumns = ["Time", "outcome", "cause"]\n')
    display = load_settings(path).display
    assert display.glyphs == "ascii" and display.columns == ("time", "outcome", "cause")


def test_bad_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[accounts\n"))
    with pytest.raises(ConfigError, match="config init"):
        load_settings(tmp_path / "absent.toml")


def test_template_is_private_and_valid(tmp_path):
    path = tmp_path / "sub" / "config.toml"
    write_template(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    s = load_settings(path)
    assert s.accounts == {} and s.warnings == ()
