"""AI guardrails and prompt transformations as request/response policies (`aigw.common.guardrails` says what each does)."""
