"""Process start-up shared by every service's `__main__`."""

from pydantic import ValidationError
from pydantic_settings import BaseSettings

from aigw.common.settings import environment_name


def load_settings[S: BaseSettings](cls: type[S]) -> S:
    """Read settings from the environment, or exit 1 with a message naming each missing or
    invalid setting. pydantic's own message may echo the inputs, secrets included: this one
    says only which setting is wrong and how, never its value."""
    try:
        return cls()
    except ValidationError as exc:
        raise SystemExit(f"{_service(cls)}: invalid settings: {describe(cls, exc)}") from None


def describe(cls: type[BaseSettings], exc: ValidationError) -> str:
    problems = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        where = _setting_name(cls, err["loc"])
        what = "missing" if err["type"] == "missing" else err["msg"]
        problems.append(f"{where}: {what}")
    return "; ".join(problems)


def _setting_name(cls: type[BaseSettings], loc: tuple[int | str, ...]) -> str:
    """The environment variable behind an error location, e.g. `AIGW_SECRET_KEY`."""
    if not loc:
        return "settings"
    head = str(loc[0])
    field = cls.model_fields.get(head) or next(
        (f for f in cls.model_fields.values() if environment_name(f) == head), None
    )
    name = (environment_name(field) if field else None) or head
    rest = ".".join(str(part) for part in loc[1:])
    return f"{name}.{rest}" if rest else name


def _service(cls: type[BaseSettings]) -> str:
    """`aigw.publisher.settings` -> `publisher`."""
    parts = cls.__module__.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "aigw" else cls.__module__
