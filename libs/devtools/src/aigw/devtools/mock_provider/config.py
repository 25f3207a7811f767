"""The mock's settings: what the command line starts it with and `POST /_mock/config` changes
(globally or per first path segment), each value checked before any is applied."""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_API_KEYS = "mock-provider-key,mock-sandbox-key"


@dataclass
class MockConfig:
    api_keys: frozenset[str] = field(default_factory=lambda: frozenset(DEFAULT_API_KEYS.split(",")))
    latency_ms: float = 0.0
    fail_status: int | None = None
    chunk_delay_ms: float = 0.0
    break_after_chunks: int = 0
    gzip: bool = False
    segments: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per first-path-segment overrides, keyed by the `/_mock/config` names (`latencyMs`...)."""

    @classmethod
    def from_keys(cls, keys: str, **kwargs: Any) -> "MockConfig":
        return cls(api_keys=frozenset(k.strip() for k in keys.split(",") if k.strip()), **kwargs)


def _duration(key: str, value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"{key} must be a number")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{key} must be a finite number >= 0")
    return number


def _count(key: str, value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"{key} must be an integer")
    number = int(value)
    if number < 0:
        raise ValueError(f"{key} must be >= 0")
    return number


def _status(key: str, value: Any) -> int | None:
    number = _count(key, value)
    if number == 0:
        return None
    if not 400 <= number <= 599:
        raise ValueError(f"{key} must be an HTTP error status (400-599), 0 or null")
    return number


def _flag(key: str, value: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise TypeError(f"{key} must be true or false")
    return value


# the `/_mock/config` name of each setting, its parser and its `MockConfig` field
_SETTINGS: dict[str, tuple[Callable[[str, Any], Any], str]] = {
    "latencyMs": (_duration, "latency_ms"),
    "failStatus": (_status, "fail_status"),
    "chunkDelayMs": (_duration, "chunk_delay_ms"),
    "breakAfterChunks": (_count, "break_after_chunks"),
    "gzip": (_flag, "gzip"),
}


def _parse_settings(update: dict[str, Any], *, strict: bool) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for key, value in update.items():
        setting = _SETTINGS.get(key)
        if setting is not None:
            settings[key] = setting[0](key, value)
        elif strict:
            raise ValueError(f"unknown setting {key!r} (known: {', '.join(_SETTINGS)})")
    return settings


def _parse_segments(value: Any) -> dict[str, dict[str, Any]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError("segments must be an object of first path segment to settings")
    segments: dict[str, dict[str, Any]] = {}
    for name, settings in value.items():
        if not isinstance(settings, dict):
            raise TypeError(f"segments.{name} must be an object")
        segments[name] = _parse_settings(settings, strict=True)
    return segments


def configure(config: MockConfig, update: dict[str, Any]) -> None:
    """Validate the whole update first, so a bad one changes nothing; unknown top-level keys are
    ignored, `segments` (if given) replaces the previous map."""
    settings = _parse_settings(update, strict=False)
    segments = _parse_segments(update["segments"]) if "segments" in update else None
    for key, value in settings.items():
        setattr(config, _SETTINGS[key][1], value)
    if segments is not None:
        config.segments = segments


def view(config: MockConfig) -> dict[str, Any]:
    """The settings as `GET /_mock/config` shows them."""
    shown: dict[str, Any] = {key: getattr(config, name) for key, (_, name) in _SETTINGS.items()}
    shown["segments"] = {name: dict(s) for name, s in config.segments.items()}
    return shown
