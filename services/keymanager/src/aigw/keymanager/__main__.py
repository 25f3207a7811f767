from pydantic import ValidationError

from aigw.common.serve import serve
from aigw.keymanager.app import create_app
from aigw.keymanager.settings import Settings


def _load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        # pydantic's own message echoes the inputs, secrets included: report only what is wrong.
        problems = "; ".join(
            f"{'.'.join(map(str, err['loc']))}: {err['msg']}"
            for err in exc.errors(include_input=False)
        )
        raise SystemExit(f"keymanager: invalid settings: {problems}") from None


def main() -> None:
    settings = _load_settings()
    serve(
        create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level
    )


if __name__ == "__main__":
    main()
