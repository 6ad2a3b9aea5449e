"""Configuration of the reference service, read from environment variables only.

  LLM_SERVICE_TOKEN            scheme-1 shared secret (X-Service-Token). Required.
  LLM_JWT_KEYS                 scheme-2 HS256 secrets as a JSON object {"kid": "secret", ...}; the
                               secrets are used as their UTF-8 bytes. Required, at least one key.
  LLM_STREAM_TOKEN_KEYS        stream-token secrets, same form. Default: LLM_JWT_KEYS.
  LLM_WEBHOOK_SECRET           completion-webhook secret, "whsec_<base64>". Optional.
  LLM_WEBHOOK_URL              the host's webhook URL. Optional (no webhooks without it).
  LLM_WEBHOOK_MAX_REDELIVERIES redeliveries after a non-2xx answer (default 5).
  LLM_WEBHOOK_BACKOFF_SECONDS  wait before the first redelivery, doubled each time (default 1.0).
  LLM_HEARTBEAT_SECONDS        ": ping" interval while the model thinks (default 15).
  LLM_STALL_MAX_SECONDS        how long the "stall" fault holds a stream open at most (default 60).
  LLM_TEST_MODE                "1" enables the /_test admin endpoints and the fault knobs
                               (X-Test-Fault header, "#fault:" query directives). Default off.
"""
import base64
import binascii
import json
from dataclasses import dataclass
from typing import Dict, Mapping, Optional


class ConfigError(Exception):
    """The environment does not describe a usable service; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    service_token: str
    jwt_keys: Dict[str, bytes]
    stream_keys: Dict[str, bytes]
    webhook_secret: Optional[bytes]
    webhook_url: Optional[str]
    webhook_max_redeliveries: int
    webhook_backoff_seconds: float
    heartbeat_seconds: float
    stall_max_seconds: float
    test_mode: bool

    @staticmethod
    def from_env(env: Mapping[str, str]) -> "Settings":
        token = env.get("LLM_SERVICE_TOKEN", "")
        if not token.strip():
            raise ConfigError("LLM_SERVICE_TOKEN must be set (the scheme-1 shared secret)")
        jwt_keys = _keys(env, "LLM_JWT_KEYS", env.get("LLM_JWT_KEYS"))
        stream_keys = _keys(env, "LLM_STREAM_TOKEN_KEYS", env.get("LLM_STREAM_TOKEN_KEYS") or env.get("LLM_JWT_KEYS"))
        for name, keys in (("LLM_JWT_KEYS", jwt_keys), ("LLM_STREAM_TOKEN_KEYS", stream_keys)):
            if token.encode("utf-8") in keys.values():
                raise ConfigError(f"{name} holds the scheme-1 service token: JWTs must use another secret")
        return Settings(
            service_token=token,
            jwt_keys=jwt_keys,
            stream_keys=stream_keys,
            webhook_secret=_webhook_secret(env.get("LLM_WEBHOOK_SECRET")),
            webhook_url=env.get("LLM_WEBHOOK_URL") or None,
            webhook_max_redeliveries=_number(env, "LLM_WEBHOOK_MAX_REDELIVERIES", 5, int, 0, 10),
            webhook_backoff_seconds=_number(env, "LLM_WEBHOOK_BACKOFF_SECONDS", 1.0, float, 0.0, 60.0),
            heartbeat_seconds=_number(env, "LLM_HEARTBEAT_SECONDS", 15.0, float, 0.01, 300.0),
            stall_max_seconds=_number(env, "LLM_STALL_MAX_SECONDS", 60.0, float, 0.0, 3600.0),
            test_mode=env.get("LLM_TEST_MODE", "") == "1",
        )


def _keys(env: Mapping[str, str], name: str, raw: Optional[str]) -> Dict[str, bytes]:
    if not raw:
        raise ConfigError(f'{name} must be set to a JSON object {{"kid": "secret"}}')
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise ConfigError(f'{name} is not JSON; expected {{"kid": "secret"}}') from None
    if not isinstance(parsed, dict) or not parsed:
        raise ConfigError(f'{name} must be a non-empty JSON object {{"kid": "secret"}}')
    keys = {}
    for kid, secret in parsed.items():
        if not isinstance(secret, str) or len(secret.encode("utf-8")) < 32:
            raise ConfigError(f"{name}: the secret of kid {kid!r} must be a string of at least 32 bytes")
        keys[kid] = secret.encode("utf-8")
    return keys


def _webhook_secret(raw: Optional[str]) -> Optional[bytes]:
    if not raw:
        return None
    text = raw.strip()
    if text.startswith("whsec_"):
        text = text[len("whsec_"):]
    try:
        secret = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError("LLM_WEBHOOK_SECRET must be whsec_ followed by standard base64") from None
    if len(secret) < 24:
        raise ConfigError("LLM_WEBHOOK_SECRET must decode to at least 24 bytes")
    return secret


def _number(env, name, default, kind, low, high):
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, was {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, was {raw!r}")
    return value
