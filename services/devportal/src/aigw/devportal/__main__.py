from aigw.common.http_limits import wire_limits
from aigw.common.serve import serve
from aigw.common.startup import load_settings
from aigw.devportal.app import create_app
from aigw.devportal.settings import Settings


def main() -> None:
    settings = load_settings(Settings)
    serve(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        limits=wire_limits(settings),
    )


if __name__ == "__main__":
    main()
