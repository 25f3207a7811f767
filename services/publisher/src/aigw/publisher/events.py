"""publisher's name on the event stream: the `source` of every event it emits (`aigw.api.*`,
`aigw.policy.*` and `aigw.vendor.*`, each emitted on behalf of an `aigw.common.actor.Actor`)."""

SOURCE = "publisher"
