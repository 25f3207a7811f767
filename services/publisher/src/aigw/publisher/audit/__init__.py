"""The audit trail: the management events of every service, as the event stream holds them,
queried by type, subject, actor, correlation id and time (`GET /api/audit/v1/events`)."""
