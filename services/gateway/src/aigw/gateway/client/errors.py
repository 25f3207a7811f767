"""How a provider call fails."""


class UpstreamError(Exception):
    """The provider could not be reached, or dropped the connection, or spoke broken HTTP."""


class AddressRefused(UpstreamError):
    """The provider's host is (or resolves only to) addresses the gateway may not connect to."""


class ConnectTimeout(TimeoutError):
    """No connection within `connect_timeout`: the provider never saw the request."""
