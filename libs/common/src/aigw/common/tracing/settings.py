"""The tracing settings every service inherits: the standard OpenTelemetry variables, so an
operator's usual collector set-up applies unchanged."""

from urllib.parse import unquote

from pydantic import SecretStr, field_validator

from aigw.common.settings import ServiceSettings, setting
from aigw.common.tracing.exporter import BatchExporter
from aigw.common.tracing.otlp import traces_url
from aigw.common.tracing.tracer import Tracer


class TracingSettings(ServiceSettings):
    otlp_endpoint: str | None = setting(
        None,
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        description="an OTLP/HTTP collector's base URL (e.g. http://127.0.0.1:4318): traces "
        "are posted as JSON to <url>/v1/traces; unset: no tracing at all",
    )
    otlp_headers: SecretStr | None = setting(
        None,
        "OTEL_EXPORTER_OTLP_HEADERS",
        description="headers sent with every export, `name=value` pairs separated by commas "
        "(e.g. a hosted collector's API key)",
    )
    otel_service_name: str | None = setting(
        None, "OTEL_SERVICE_NAME", description="the traces' service.name; default aigw-<service>"
    )
    traces_sampler_arg: float = setting(
        1.0,
        "OTEL_TRACES_SAMPLER_ARG",
        ge=0.0,
        le=1.0,
        description="the share of calls traced (0..1) when the caller sent no traceparent; "
        "a caller's sampled flag is followed",
    )

    @field_validator("otlp_endpoint")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("an OTLP/HTTP endpoint is an http:// or https:// URL")
        return value

    @property
    def service_name(self) -> str:
        return self.otel_service_name or f"aigw-{self.IDENTITY}"

    def tracer(self) -> Tracer | None:
        """The service's tracer, None when no endpoint is configured (tracing off)."""
        if not self.otlp_endpoint:
            return None
        resource = {"service.name": self.service_name, "service.namespace": "aigw"}
        exporter = BatchExporter(
            traces_url(self.otlp_endpoint),
            resource,
            f"aigw.{self.IDENTITY}",
            headers=self.otlp_header_map,
        )
        return Tracer(exporter, self.traces_sampler_arg)

    @property
    def otlp_header_map(self) -> dict[str, str]:
        raw = self.otlp_headers.get_secret_value() if self.otlp_headers else ""
        pairs = (item.split("=", 1) for item in raw.split(",") if "=" in item)
        return {name.strip(): unquote(value.strip()) for name, value in pairs if name.strip()}
