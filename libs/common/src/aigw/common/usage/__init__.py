"""Usage records from the gateways, stored by each service that reports on them (publisher,
devportal): the store, its event consumer and the report shapes, kept in one place."""
