# Sourced by the scripts that drive a throw-away Strongbox on loopback
# (bench-smoke.sh, soak.sh). Needs WORK (a scratch directory), STRONGBOX_BIN,
# and NAME (the caller's name for messages). start_server sets HTTP_PORT,
# HTTPS_PORT, ACCESS_KEY, SECRET_KEY, ENDPOINT and SERVER_PID, and returns
# once the server answers; stop_server is the EXIT trap's half.

stop_server() {
    if [[ -n "${SERVER_PID:-}" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}

start_server() {
    # Two free loopback ports (released just before the server binds them).
    read -r HTTP_PORT HTTPS_PORT < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
')
    ACCESS_KEY="AKIA$(echo "$NAME" | tr -dc 'a-zA-Z' | tr '[:lower:]' '[:upper:]')TEST"
    SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_hex(20))')"
    ENDPOINT="http://127.0.0.1:$HTTP_PORT"
    STRONGBOX_ROOT_ACCESS_KEY="$ACCESS_KEY" STRONGBOX_ROOT_SECRET_KEY="$SECRET_KEY" \
        "$STRONGBOX_BIN" serve --data-dir "$WORK/data" \
        --http-addr "127.0.0.1:$HTTP_PORT" --https-addr "127.0.0.1:$HTTPS_PORT" \
        >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    # Any HTTP answer (403 without credentials) means it is serving.
    for _ in $(seq 1 150); do
        if curl -s -o /dev/null "$ENDPOINT/"; then
            echo "$NAME: server pid $SERVER_PID on $ENDPOINT ($STRONGBOX_BIN)"
            return 0
        fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "$NAME: the server exited; its log:" >&2
            cat "$WORK/server.log" >&2
            return 1
        fi
        sleep 0.2
    done
    echo "$NAME: the server does not answer on $ENDPOINT after 30 s; its log:" >&2
    cat "$WORK/server.log" >&2
    return 1
}
