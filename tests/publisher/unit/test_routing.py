import pytest

from aigw.publisher.apis.routing import (
    check_route_prefix,
    check_version,
    normalize_context,
    route_prefix,
)


@pytest.mark.parametrize(
    ("context", "version", "prefix"),
    [
        ("mistralaiapi", "0.0.2", "mistralaiapi/0.0.2"),
        ("/mistralaiapi", "0.0.2", "mistralaiapi/0.0.2"),
        ("{version}/mistralaiapi", "0.0.2", "0.0.2/mistralaiapi"),
        ("ai/{version}/chat", "v1", "ai/v1/chat"),
        ("team_a/open-ai.v2", "1", "team_a/open-ai.v2/1"),
    ],
)
def test_route_prefix_resolves_context_and_version(context, version, prefix):
    assert route_prefix(normalize_context(context), check_version(version)) == prefix


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ("", "must not be empty"),
        ("/", "must not be empty"),
        ("//api", "empty segments"),
        ("api/", "empty segments"),
        ("a//b", "empty segments"),
        ("../etc", "'..'"),
        ("a/./b", "'..'"),
        ("api?x=1", "may only contain"),
        ("my api", "may only contain"),
        ("{version}/{version}", "only once"),
        ("{ver}/api", "may only contain"),
        ("a" * 201, "at most 200"),
    ],
)
def test_invalid_contexts_are_rejected_with_a_reason(context, message):
    with pytest.raises(ValueError, match=message):
        normalize_context(context)


@pytest.mark.parametrize("version", ["", "1/2", "v 1", "x" * 31, "..", "{version}"])
def test_invalid_versions_are_rejected(version):
    with pytest.raises(ValueError, match="version must be"):
        check_version(version)


@pytest.mark.parametrize("version", ["0.0.2", "v1", "2024-10-21", "x" * 30, "A_b"])
def test_valid_versions_pass_unchanged(version):
    assert check_version(version) == version


@pytest.mark.parametrize(
    "prefix", ["health/1", "metrics/1", "docs/1", "openapi.json/1", "redoc/1", "HEALTH/x/1"]
)
def test_routes_under_the_gateways_own_paths_are_reserved(prefix):
    with pytest.raises(ValueError, match="reserved"):
        check_route_prefix(prefix)


@pytest.mark.parametrize("prefix", ["healthz/1", "api/health/1", "1/docs", "openapi/1"])
def test_other_routes_are_free(prefix):
    assert check_route_prefix(prefix) == prefix
