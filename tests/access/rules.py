"""Who may call what: one row per route of every service, keyed by (service, method, path).

A route without a row fails the access-matrix test, and so does a row whose route is gone.
"""

from tests.support.access.rule import (
    ADMIN,
    EVERY_ROLE,
    PUBLISHER,
    SUBSCRIBER,
    Owned,
    RouteKey,
    Rule,
    audit,
    dp,
    km,
    pub,
)

PUBLIC = Rule()
SIGNED_IN = Rule(roles=EVERY_ROLE)
PUBLISHER_API = Rule(roles=frozenset({ADMIN, PUBLISHER}))
ADMIN_ONLY = Rule(roles=frozenset({ADMIN}))
PORTAL = Rule(roles=frozenset({SUBSCRIBER, ADMIN}))  # the portal is personal, admins' too
PORTAL_ITEM = Rule(roles=PORTAL.roles, owned=Owned.ITEM)
PORTAL_LIST = Rule(roles=PORTAL.roles, owned=Owned.LIST)
KM_ITEM = Rule(roles=EVERY_ROLE, owned=Owned.ITEM, admin_sees_all=True)
KM_LIST = Rule(roles=EVERY_ROLE, owned=Owned.LIST, admin_sees_all=True)
KM_SIGNED = Rule(roles=EVERY_ROLE, signed=True)
KM_SIGNED_ITEM = Rule(roles=EVERY_ROLE, owned=Owned.ITEM, admin_sees_all=True, signed=True)
SIGNED_ONLY = Rule(signed=True)
OAUTH_CLIENT = Rule(client_auth=True)
# an API is its owner's and co-owners' (and every admin's): another publisher meets a 404
PUBLISHER_ITEM = Rule(
    roles=PUBLISHER_API.roles, owned=Owned.ITEM, admin_sees_all=True, rival=PUBLISHER
)
PUBLISHER_LIST = Rule(
    roles=PUBLISHER_API.roles, owned=Owned.LIST, admin_sees_all=True, rival=PUBLISHER
)

# the audit trail: everyone signed in reads the part that is theirs (an admin all of it); a
# publisher's API's events are not in another publisher's list. A subscriber's applications
# against another subscriber: tests/publisher/integration/test_audit.py
AUDIT_TRAIL = Rule(roles=EVERY_ROLE, owned=Owned.LIST, admin_sees_all=True, rival=PUBLISHER)


def _shared(service: str) -> dict[RouteKey, Rule]:
    """Health, metrics and the API documents: public on every service."""
    health = ("/health/live", "/health/ready", "/metrics")
    documents = ("/openapi.json", "/docs", "/redoc")
    paths = health + documents
    return {(service, "GET", path): PUBLIC for path in paths}


def _portal_pages(service: str, *prefixes: str) -> dict[RouteKey, Rule]:
    """A portal's page: public, since it is the same static page for everyone until the user
    signs in; every call it then makes is checked by its API route."""
    paths = [path for prefix in prefixes for path in (f"/{prefix}", f"/{prefix}/{{rest:path}}")]
    return {(service, "GET", path): PUBLIC for path in paths}


PUBLISHER_RULES: dict[RouteKey, Rule] = {
    # AI vendors: publishers read them to build APIs on; custom vendors are the admins' to write
    pub("GET", "/ai-vendors"): PUBLISHER_API,
    pub("GET", "/ai-vendors/{name}/{version}"): PUBLISHER_API,
    pub("POST", "/ai-vendors"): ADMIN_ONLY,
    pub("PUT", "/ai-vendors/{name}/{version}"): ADMIN_ONLY,
    pub("DELETE", "/ai-vendors/{name}/{version}"): ADMIN_ONLY,
    # AI APIs: the creator owns one (co-owners share it); other publishers get 404 for it
    pub("POST", "/apis"): PUBLISHER_API,
    pub("GET", "/apis"): PUBLISHER_LIST,
    pub("GET", "/apis/{api_id}"): PUBLISHER_ITEM,
    pub("PUT", "/apis/{api_id}"): PUBLISHER_ITEM,
    pub("PATCH", "/apis/{api_id}"): PUBLISHER_ITEM,
    pub("DELETE", "/apis/{api_id}"): PUBLISHER_ITEM,
    pub("PUT", "/apis/{api_id}/backend-security"): PUBLISHER_ITEM,
    pub("GET", "/apis/{api_id}/backend-security"): PUBLISHER_ITEM,
    pub("POST", "/apis/{api_id}/deploy"): PUBLISHER_ITEM,
    pub("POST", "/apis/{api_id}/undeploy"): PUBLISHER_ITEM,
    pub("POST", "/apis/{api_id}/lifecycle"): PUBLISHER_ITEM,
    pub("GET", "/apis/{api_id}/usage"): PUBLISHER_ITEM,
    pub("GET", "/apis/{api_id}/usage/calls"): PUBLISHER_ITEM,
    # business plans: admins write them, publishers read them to pick their APIs' plans
    pub("POST", "/subscription-policies"): ADMIN_ONLY,
    pub("GET", "/subscription-policies"): PUBLISHER_API,
    pub("GET", "/subscription-policies/{name}"): PUBLISHER_API,
    pub("PUT", "/subscription-policies/{name}"): ADMIN_ONLY,
    pub("DELETE", "/subscription-policies/{name}"): ADMIN_ONLY,
}

AUDIT_RULES: dict[RouteKey, Rule] = {
    audit("GET", "/events"): AUDIT_TRAIL,
}

DEVPORTAL_RULES: dict[RouteKey, Rule] = {
    dp("POST", "/signup"): PUBLIC,
    dp("GET", "/apis"): SIGNED_IN,
    dp("GET", "/apis/{api_id}"): SIGNED_IN,
    dp("GET", "/apis/{api_id}/definition"): SIGNED_IN,
    dp("POST", "/apis/{api_id}/test-key"): PORTAL,
    dp("POST", "/applications"): PORTAL,
    dp("GET", "/applications"): PORTAL_LIST,
    dp("GET", "/applications/{app_id}"): PORTAL_ITEM,
    dp("DELETE", "/applications/{app_id}"): PORTAL_ITEM,
    dp("POST", "/applications/{app_id}/api-keys"): PORTAL_ITEM,
    dp("GET", "/applications/{app_id}/api-keys"): PORTAL_ITEM,
    dp("POST", "/applications/{app_id}/api-keys/{key_id}/regenerate"): PORTAL_ITEM,
    dp("DELETE", "/applications/{app_id}/api-keys/{key_id}"): PORTAL_ITEM,
    dp("POST", "/applications/{app_id}/oauth-keys"): PORTAL_ITEM,
    dp("GET", "/applications/{app_id}/oauth-keys"): PORTAL_ITEM,
    dp("DELETE", "/applications/{app_id}/oauth-keys/{consumer_key}"): PORTAL_ITEM,
    dp("POST", "/subscriptions"): PORTAL_ITEM,  # the application is in the body
    dp("GET", "/subscriptions"): PORTAL_LIST,
    dp("PUT", "/subscriptions/{sub_id}"): PORTAL_ITEM,
    dp("DELETE", "/subscriptions/{sub_id}"): PORTAL_ITEM,
    dp("GET", "/applications/{app_id}/usage"): PORTAL_ITEM,
    dp("GET", "/applications/{app_id}/usage/calls"): PORTAL_ITEM,
    dp("GET", "/subscription-policies"): SIGNED_IN,  # like the catalogue
}

KEYMANAGER_RULES: dict[RouteKey, Rule] = {
    km("POST", "/auth/login"): PUBLIC,
    km("GET", "/jwks"): PUBLIC,
    km("POST", "/signing-keys/rotate"): ADMIN_ONLY,
    km("POST", "/users"): ADMIN_ONLY,
    km("GET", "/users"): ADMIN_ONLY,
    km("GET", "/users/me"): SIGNED_IN,
    km("POST", "/users/signup"): SIGNED_ONLY,
    km("PATCH", "/users/{username}"): ADMIN_ONLY,
    km("DELETE", "/users/{username}"): ADMIN_ONLY,
    km("POST", "/users/{username}/password"): ADMIN_ONLY,
    km("PUT", "/users/me/password"): SIGNED_IN,  # one's own, with the current password
    km("POST", "/api-keys"): KM_SIGNED,
    km("GET", "/api-keys"): KM_LIST,
    km("POST", "/api-keys/{key_id}/regenerate"): KM_SIGNED_ITEM,
    km("DELETE", "/api-keys/{key_id}"): KM_ITEM,
    km("POST", "/oauth-clients"): KM_SIGNED,
    km("GET", "/oauth-clients"): KM_LIST,
    km("DELETE", "/oauth-clients/{client_id}"): KM_ITEM,
    km("POST", "/oauth2/token"): OAUTH_CLIENT,
    km("POST", "/oauth2/revoke"): OAUTH_CLIENT,
}

RULES: dict[RouteKey, Rule] = {
    **{
        key: rule
        for service in ("publisher", "devportal", "keymanager")
        for key, rule in _shared(service).items()
    },
    **_portal_pages("publisher", "publisher", "admin"),
    **_portal_pages("devportal", "devportal"),
    **PUBLISHER_RULES,
    **AUDIT_RULES,
    **DEVPORTAL_RULES,
    **KEYMANAGER_RULES,
}
