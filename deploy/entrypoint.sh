#!/bin/sh
# The images' entrypoint: `entrypoint.sh <service> [args...]` runs one aigw process.
#
#   publisher | devportal | keymanager | gateway   the services (python -m aigw.<service>)
#   snapshotter                                    the shared routing table snapshot
#                                                  (python -m aigw.gateway.snapshotter)
#   provision                                      create / update the streams, then exit
#   mock-provider                                  the mock AI provider (images built with devtools)
#   health <port> [path]                           exit 0 when http://127.0.0.1:<port><path>
#                                                  answers 200 (path: /health/ready); for
#                                                  container health checks (no curl in the image)
#
# Secrets arrive as files (compose secrets, Kubernetes Secret volumes), never in the
# environment the orchestrator shows: for each variable below, `<NAME>_FILE` names a file whose
# content (one trailing newline dropped) becomes `<NAME>`. Setting both is an error. Variables
# that are themselves paths (NATS_SEED_FILE, AIGW_TRUST_FILE, NATS_TLS_*_FILE, ...) are read by
# the services as they are.
set -eu

FILE_SECRETS="AIGW_SECRET_KEY AIGW_PREVIOUS_SECRET_KEYS AIGW_ADMIN_PASSWORD MONGODB_URL
GATEWAY_EMBEDDINGS_API_KEY MOCK_PROVIDER_API_KEYS"

fail() {
    echo "entrypoint: $*" >&2
    exit 64
}

load_file_secrets() {
    for name in $FILE_SECRETS; do
        eval "file=\${${name}_FILE-}"
        [ -n "$file" ] || continue
        eval "direct=\${${name}-}"
        [ -z "$direct" ] || fail "$name and ${name}_FILE are both set; set one"
        [ -r "$file" ] || fail "${name}_FILE: $file is not a readable file"
        # $(...) drops the trailing newline(s) an editor or `echo` leaves
        value=$(cat "$file")
        [ -n "$value" ] || fail "${name}_FILE: $file is empty"
        export "$name=$value"
        unset "${name}_FILE"
    done
}

health() {
    [ $# -ge 1 ] || fail "usage: entrypoint.sh health <port> [path]"
    exec python -c '
import sys, urllib.request
url = f"http://127.0.0.1:{int(sys.argv[1])}{sys.argv[2]}"
try:
    with urllib.request.urlopen(url, timeout=3) as answer:
        sys.exit(0 if answer.status == 200 else 1)
except OSError as exc:
    sys.exit(f"{url}: {exc}")
' "$1" "${2:-/health/ready}"
}

[ $# -ge 1 ] || fail "usage: entrypoint.sh publisher|devportal|keymanager|gateway|snapshotter|provision|mock-provider|health [args...]"
service=$1
shift
case $service in
    publisher | devportal | keymanager | gateway) module="aigw.$service" ;;
    snapshotter) module="aigw.gateway.snapshotter" ;;
    provision) module="aigw.common.provision" ;;
    mock-provider) module="aigw.devtools.mock_provider" ;;
    health) health "$@" ;;
    *) fail "unknown service '$service' (publisher, devportal, keymanager, gateway, snapshotter, provision, mock-provider)" ;;
esac

load_file_secrets
exec python -m "$module" "$@"
