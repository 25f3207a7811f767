"""The response cache shared by every gateway (`aigw.common.response_cache` says what it does).

`keys` says when two requests are the same (exact) or candidates (semantic), `entry` what is
stored, `index` what a gateway keeps in memory, `shared` the NATS key-value bucket every
gateway writes and watches, `replay` a cached answer as an event stream, `policy` the request
and response policy that puts them together (compiled per API revision by `compiler`).
"""
