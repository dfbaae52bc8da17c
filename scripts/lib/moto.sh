# Sourced by scripts: starts moto_server (a local SSM API) on a free loopback port, exports
# MOTO_ENDPOINT, and stops it when the calling script exits. Needs scripts/setup first.
moto_port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p target
.venv/bin/moto_server -H 127.0.0.1 -p "$moto_port" >target/moto.log 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -s -m 1 -o /dev/null "http://127.0.0.1:$moto_port/moto-api/" && break
  sleep 0.2
done
if ! curl -s -m 1 -o /dev/null "http://127.0.0.1:$moto_port/moto-api/"; then
  echo "moto_server did not start:"; cat target/moto.log; exit 1
fi
export MOTO_ENDPOINT="http://127.0.0.1:$moto_port"
