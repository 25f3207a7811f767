"""devportal's name on the event stream: the `source` of every event it emits
(`aigw.application.*` and `aigw.subscription.*`, each built from its document in the owning
domain's `service.py` and emitted on behalf of an `aigw.common.actor.Actor`)."""

SOURCE = "devportal"
