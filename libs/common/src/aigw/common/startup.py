"""Process start-up shared by every service's `__main__`."""

from pydantic import AliasChoices, ValidationError
from pydantic_settings import BaseSettings


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
    """The environment variable(s) behind an error location, e.g. `AIGW_SECRET_KEY`."""
    if not loc:
        return "settings"
    head = str(loc[0])
    field = cls.model_fields.get(head) or next(
        (f for f in cls.model_fields.values() if head in _aliases(f.validation_alias)), None
    )
    env_names = [a for a in _aliases(field.validation_alias) if a.isupper()] if field else []
    name = " or ".join(env_names) if env_names else head
    rest = ".".join(str(part) for part in loc[1:])
    return f"{name}.{rest}" if rest else name


def _aliases(alias: object) -> list[str]:
    if isinstance(alias, str):
        return [alias]
    if isinstance(alias, AliasChoices):
        return [choice for choice in alias.choices if isinstance(choice, str)]
    return []


def _service(cls: type[BaseSettings]) -> str:
    """`aigw.publisher.settings` -> `publisher`."""
    parts = cls.__module__.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "aigw" else cls.__module__
