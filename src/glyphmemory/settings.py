"""The settings: one object, read once when a door or the CLI starts, then handed to what needs it.

Each setting has one source order: an explicit argument (a CLI flag, a test, a door's own
choice) beats the environment variable (its name in glyphmemory.names), which beats the CLI's
config file (config.json, only the few keys listed below), which beats the default. An empty
environment variable counts as unset. Nothing reads os.environ for a GLYPH_* setting after the
start: a request sees what its door read (README, "Settings").

The AWS SDK's own variables (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL_* …) are not here:
aws/client.py reads them where the SigV4 credential chain reads them, as every AWS client does.
Nor are other programs' folders (XDG_CONFIG_HOME, APPDATA, CODEX_HOME: cli/install.py).

Standard library only, no dataclasses (it loads inspect: ~10 ms on the CLI's start); the
config file's json is imported only when there is a file to read.
"""

from __future__ import annotations

import os

from . import names


def _text(value: str) -> str:
    return value


def _flag(value: str) -> bool:
    return value == "1"


def _listed(value: str) -> tuple[str, ...]:
    """A comma-separated list, each entry stripped, empty entries dropped."""
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _whole(value: str) -> int:
    return int(value.strip())


def _number(value: str) -> float:
    return float(value.strip())


# attribute, environment variable, config.json key (or None), parser, default, secret
FIELDS: tuple[tuple[str, str, str | None, object, object, bool], ...] = (
    ("store", names.ENV_STORE, None, _text, None, False),
    ("home", names.ENV_HOME, None, _text, None, False),
    ("url", names.ENV_URL, "url", _text, None, False),
    ("key", names.ENV_KEY, None, _text, None, True),
    ("key_param", names.ENV_KEY_PARAM, None, _text, None, False),
    ("basic_auth", names.ENV_BASIC_AUTH, None, _text, None, True),
    ("redact", names.ENV_REDACT, None, _text, None, False),
    ("log_level", names.ENV_LOG_LEVEL, None, _text, "INFO", False),
    ("public_url", names.ENV_PUBLIC_URL, None, _text, None, False),
    ("trust_forwarded", names.ENV_TRUST_FORWARDED, None, _flag, False, False),
    ("oauth_redirects", names.ENV_OAUTH_REDIRECTS, None, _listed, (), False),
    ("oauth_cimd_hosts", names.ENV_OAUTH_CIMD_HOSTS, None, _listed, (), False),
    ("bridge_url", names.ENV_BRIDGE_URL, "bridge_url", _text, None, False),
    ("bridge_worker", names.ENV_BRIDGE_WORKER, None, _text, None, False),
    ("bridge_model", names.ENV_BRIDGE_MODEL, None, _text, None, False),
    ("bridge_max_tokens", names.ENV_BRIDGE_MAX_TOKENS, None, _whole, None, False),
    ("bridge_timeout_s", names.ENV_BRIDGE_TIMEOUT_S, None, _number, None, False),
    ("bridge_budget", names.ENV_BRIDGE_BUDGET, None, _whole, None, False),
    ("bridge_ttl_s", names.ENV_BRIDGE_TTL_S, None, _whole, None, False),
    ("anthropic_api_key", names.ENV_ANTHROPIC_API_KEY, "anthropic_api_key", _text, None, True),
    ("anthropic_base_url", names.ENV_ANTHROPIC_BASE_URL, None, _text, None, False),
    ("anthropic_key_param", names.ENV_ANTHROPIC_KEY_PARAM, None, _text, None, False),
    ("claude_dir", names.ENV_CLAUDE_DIR, None, _text, None, False),
    ("claude_desktop_config", names.ENV_CLAUDE_DESKTOP_CONFIG, None, _text, None, False),
)
_DEFAULTS = {name: default for name, _, _, _, default, _ in FIELDS}
_ENV_OF = {name: env for name, env, _, _, _, _ in FIELDS}
_SECRET = frozenset(name for name, *_, secret in FIELDS if secret)
_FROM_FILE = frozenset(name for name, _, config_key, *_ in FIELDS if config_key)


class SettingsError(ValueError):
    """A setting that cannot be read: `detail` says which and why (never its value when secret).
    The CLI exits 1 with it; a Lambda door answers 503 (the function is not configured)."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class ConfigFileError(SettingsError):
    """The config file exists but is not a JSON object; `path` names it."""

    def __init__(self, path: str):
        super().__init__(f"the config file {path} is not valid JSON; fix or remove it")
        self.path = path


class Settings:
    """Every setting, as attributes named in FIELDS; frozen (replace() makes a changed copy).
    `source` maps each attribute set by something other than its default to where it came
    from: "argument", the environment variable's name, or the config file's path.
    `config_error` says why the config file could not be read (given() raises it)."""

    __slots__ = (*_DEFAULTS, "source", "config_error")

    def __init__(self, source: dict[str, str] | None = None, config_error: str | None = None, **values):
        unknown = set(values) - set(_DEFAULTS)
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        for name, default in _DEFAULTS.items():
            object.__setattr__(self, name, values.get(name, default))
        object.__setattr__(self, "source", dict(source or {}))
        object.__setattr__(self, "config_error", config_error)

    def __setattr__(self, name, value):
        raise AttributeError("settings are read once at the start; make a changed copy with replace()")

    def __eq__(self, other) -> bool:
        return isinstance(other, Settings) and all(getattr(self, n) == getattr(other, n) for n in _DEFAULTS)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, n) for n in _DEFAULTS))

    def __repr__(self) -> str:
        shown = []
        for name, default in _DEFAULTS.items():
            value = getattr(self, name)
            if value != default:
                shown.append(f"{name}={'<secret>' if name in _SECRET else repr(value)}")
        return f"Settings({', '.join(shown)})"

    def replace(self, **changes) -> Settings:
        values = {name: getattr(self, name) for name in _DEFAULTS}
        values.update(changes)
        return Settings({**self.source, **dict.fromkeys(changes, "argument")}, self.config_error, **values)

    def given(self, name: str):
        """A setting's value, or ConfigFileError when it was to come from a config file that
        could not be read (no argument or variable gave it): a broken file fails only what
        needs it, as `glyph recent` with GLYPH_URL set never reads it."""
        if self.config_error and name in _FROM_FILE and name not in self.source:
            raise ConfigFileError(self.config_error)
        return getattr(self, name)

    @property
    def refuse_secrets(self) -> bool:
        """GLYPH_REDACT=refuse: a text holding a secret is refused (422), not stored redacted."""
        return self.redact == "refuse"

    def env_name(self, name: str) -> str:
        """The environment variable of a setting (for messages: 'set GLYPH_KEY')."""
        return _ENV_OF[name]

    @classmethod
    def load(cls, args: dict | None = None, environ=None, config_path=None) -> Settings:
        """Read the settings once: `args` (attribute → value; None means not given) beats
        `environ` (os.environ when None) beats the JSON object in `config_path` (the CLI's
        config.json; None: no file, as on AWS; or a function of the settings read without the
        file, giving its path), which beats the default.

        SettingsError names the variable whose value does not parse (GLYPH_BRIDGE_TTL_S=abc);
        a config file that is not a JSON object (a missing one is fine) is kept in
        `config_error`, raised by given() for a setting it was to give."""
        environ = os.environ if environ is None else environ
        args = {k: v for k, v in (args or {}).items() if v is not None}
        unknown = set(args) - set(_DEFAULTS)
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        values, source = {}, {}
        for name, env, _config_key, parse, _default, _secret in FIELDS:
            if name in args:
                values[name], source[name] = args[name], "argument"
                continue
            raw = environ.get(env)
            if raw:
                try:
                    values[name] = parse(raw)
                except ValueError:
                    raise SettingsError(f"{env} must be a number, not {raw!r}") from None
                source[name] = env
        if callable(config_path):  # where the file is may itself be a setting (GLYPH_HOME)
            config_path = config_path(cls(source, **values))
        config, config_error = {}, None
        if config_path:
            try:
                config = _read_config(config_path)
            except ConfigFileError as exc:
                config_error = exc.path
        for name, _env, config_key, _parse, _default, _secret in FIELDS:
            if name not in values and config_key and isinstance(config.get(config_key), str) and config[config_key]:
                values[name], source[name] = config[config_key], config_path
        return cls(source, config_error, **values)


def _read_config(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            import json  # only when there is a file

            data = json.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, RecursionError):
        raise ConfigFileError(path) from None
    if not isinstance(data, dict):
        raise ConfigFileError(path)
    return data
