"""The AI API use cases, as the one `ApiService` the lifespan builds and `deps.Apis` hands to
the endpoints. It is composed of a class per group of use cases, each in its own module over
the reads and the write path they share (`changes.ApiChanges`):

- `definition.ApiDefinitions`: create, replace (PUT), patch, delete;
- `backend_security.BackendSecurity`: set the provider keys;
- `deployment.ApiDeployments`: deploy, undeploy, lifecycle transitions (publish, demote);
- `rotation.ProviderKeyRotation`: reseal the provider keys under a new master key.

Who may see and change an API is `ownership.may_manage`; who may change its co-owners,
`ownership.may_share`."""

from aigw.publisher.apis.backend_security import BackendSecurity
from aigw.publisher.apis.definition import ApiDefinitions
from aigw.publisher.apis.deployment import ApiDeployments
from aigw.publisher.apis.rotation import ProviderKeyRotation


class ApiService(ApiDefinitions, BackendSecurity, ApiDeployments, ProviderKeyRotation):
    """Built with `ApiChanges`'s arguments: the repository, the outbox, the master key's box,
    the vendor catalogue, dev mode and the check that named plans exist."""
