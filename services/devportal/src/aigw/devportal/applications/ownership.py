"""Whose application it is: every use case on an application (its keys, subscriptions, usage)
starts by finding it among the caller's own."""

from aigw.common.actor import Actor
from aigw.common.errors import NotFound
from aigw.devportal.applications.repository import ApplicationDoc, ApplicationRepository


async def owned_application(
    applications: ApplicationRepository, actor: Actor, app_id: str
) -> ApplicationDoc:
    """The caller's application; someone else's is reported as missing (404), so ids of other
    people's applications cannot be probed. An admin, too, reaches only their own."""
    app = await applications.find_owned(actor.subject, app_id)
    if app is None:
        raise NotFound(f"Application {app_id!r} does not exist")
    return app
