from typing import Any

from aigw.common.errors import NotFound
from aigw.devportal.applications import store
from aigw.devportal.audit import Actor


async def owned_application(db: store.Db, actor: Actor, app_id: str) -> dict[str, Any]:
    """The caller's application; someone else's is reported as missing (404), so ids of other
    people's applications cannot be probed."""
    app = await store.find_owned(db, actor.subject, app_id)
    if app is None:
        raise NotFound(f"Application {app_id!r} does not exist")
    return app
