"""A mock AI provider speaking three wire formats: OpenAI chat completions (also Mistral and
Azure OpenAI), the Anthropic Messages API and a made-up "Acme" vendor API whose token counts
sit in unusual places (a gateway must be told JSONPaths to meter it).

It is the benchmark baseline for the gateway, so it is a lean raw-ASGI app with no framework.
Every answer names the first path segment (`[production]`) so callers can tell which
"endpoint" answered; several endpoints of one mock are told apart by that segment.

- `POST <any prefix>/chat/completions` (e.g. `/production/v1/chat/completions`,
  `/sandbox/chat/completions`, `/openai/deployments/{d}/chat/completions?api-version=...`):
  a deterministic `chat.completion`; with `"stream": true` a `text/event-stream` of
  `chat.completion.chunk` events, then (if `stream_options.include_usage`) a usage chunk,
  then `data: [DONE]`. Header `x-ratelimit-remaining-tokens: <1_000_000 - total tokens>`.
  Auth: `Authorization: Bearer <key>` or `api-key: <key>`, else 401.
- `GET <any prefix>/models`: a model list (same auth).
- `POST <any prefix>/embeddings` (OpenAI; same auth): body `{"model", "input": str | [str],
  "dimensions"?}`; deterministic unit vectors (feature hashing of the words: texts sharing
  words are close, texts sharing none nearly orthogonal), in input order, with usage.
- `POST <any prefix>/v1/messages` (Anthropic): auth `x-api-key: <key>` (or
  `Authorization: Bearer <key>`) else 401 `authentication_error`; header `anthropic-version`
  and a body with `model` (str), `max_tokens` (int > 0) and `messages` (non-empty list) are
  required, else 400 `invalid_request_error`. Answers a `message` with one text block,
  `stop_reason: end_turn` and `usage {input_tokens, output_tokens}` (input counted over
  `system` and `messages`); with `"stream": true` Anthropic's event sequence (`event: <type>` +
  `data: <json>`): message_start, content_block_start, ping, content_block_delta...,
  content_block_stop, message_delta (with `usage.output_tokens`), message_stop. Header
  `anthropic-ratelimit-tokens-remaining`. Every error of this path, failures included, has
  Anthropic's shape `{"type": "error", "error": {"type": ..., "message": ...}}`
  (429 `rate_limit_error`, 529 `overloaded_error`, other 5xx `api_error`).
- `POST <any prefix>/acme/generate?key=<key>` (Acme; the key is a query parameter, else 401
  `{"fault": {"reason": "bad key"}}`): body `{"engine", "input", "stream"?}` (missing
  engine/input: 400); answers `{"output": {"text"}, "meta": {"engine": "<engine>-2026"},
  "billing": {"tokens": {"in", "out", "sum"}}}` with header `x-acme-tokens-left`; streamed:
  `data: {"delta": {"text"}}` events, then one `data: {"meta", "billing"}` event (no [DONE]).
  Errors of this path are `{"fault": {"reason": ...}}`.
- Failure and latency control, checked before auth (latency, then failure): per request with
  headers `x-mock-latency-ms`, `x-mock-status`, `x-mock-chunk-delay-ms` (a pause before every
  streamed event, the first included, so headers come at once and the first event late; a
  stream stops when the client leaves during a pause), `x-mock-break-after-chunks` (0: off; a
  streamed answer sends that many events, all if it has fewer, then the server drops the
  connection without the terminating chunk: the client sees a truncated body); usage reporting
  of the OpenAI path with `x-mock-usage`: `omit` (no usage anywhere) or `final-chunk` (Mistral
  style: usage in the last content chunk, always). At runtime: `POST /_mock/config` with any of
  `{"latencyMs", "failStatus", "chunkDelayMs", "breakAfterChunks", "gzip"}` (global; a bad
  update is a 400 and changes nothing; `"gzip": true` compresses every answer, streams event by
  event, when the request's `Accept-Encoding` accepts gzip, as some providers do) and
  `"segments": {"<first path segment>": {<any of those five>}}`
  (per-endpoint overrides, e.g. `/a/...` vs `/b/...`; the posted map replaces the previous one,
  `{}` clears it, omitting it keeps it; `"failStatus": null` in a segment means no failure there);
  precedence: header, then segment, then global. `GET /_mock/config` shows it all.
  `GET /_mock/requests` (the last 100 requests: method, path, query, headers, json; failed ones
  included), `DELETE /_mock/requests`.

Run: `python -m aigw.devtools.mock_provider --port 8090 [--api-keys k1,k2] [--latency-ms N]`
(keys also from `MOCK_PROVIDER_API_KEYS`).

Layout: `app` (the ASGI app and its table of routes), one module per wire format
(`openai_api` + `openai_chat` + `openai_embeddings`, `anthropic_messages`, `acme_generate`), and the shared parts:
`control` (`/_mock/...` and the per-request controls), `config` (settings and their checks),
`faults` (latency, failures, broken streams), `sse` (paced event streams), `encoding` (gzip),
`content` (the deterministic replies and token counts), `asgi` (types and plain responses).
A new format is a module with an `error_body` and a handler, plus a row in `app.ROUTES`.
"""

from aigw.devtools.mock_provider.app import RECORDED_REQUESTS, MockProvider, create_app
from aigw.devtools.mock_provider.cli import main
from aigw.devtools.mock_provider.config import DEFAULT_API_KEYS, MockConfig
from aigw.devtools.mock_provider.content import TOKEN_BUDGET, count_tokens
from aigw.devtools.mock_provider.faults import StreamBroken

__all__ = [
    "DEFAULT_API_KEYS",
    "RECORDED_REQUESTS",
    "TOKEN_BUDGET",
    "MockConfig",
    "MockProvider",
    "StreamBroken",
    "count_tokens",
    "create_app",
    "main",
]
