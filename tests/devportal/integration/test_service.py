import httpx
import pytest

pytestmark = pytest.mark.integration


async def test_health_metrics_and_openapi(devportal: httpx.AsyncClient) -> None:
    root = httpx.URL("http://devportal")
    assert (await devportal.get(root.join("/health/live"))).status_code == 200
    assert (await devportal.get(root.join("/health/ready"))).json() == {"status": "UP"}
    assert "aigw_http_requests" in (await devportal.get(root.join("/metrics"))).text
    paths = (await devportal.get(root.join("/openapi.json"))).json()["paths"]
    assert "/api/devportal/v1/apis/{api_id}/test-key" in paths
