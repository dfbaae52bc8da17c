# Sourced by scripts after scripts/lib/moto.sh: starts the AWS request gate (scripts/lib/aws_gate.py)
# on a free loopback port in front of $MOTO_ENDPOINT, exports AWS_GATE_ENDPOINT, logs to
# target/aws-gate.log, and stops it when the calling script exits (after the EXIT trap that was
# already set, moto.sh's). The gate checks every request against AWS's published service models and
# records it; see the module docstring. Needs scripts/setup first (botocore and regex in .venv/,
# scripts/lib/gate-requirements.txt); AWS_GATE_PYTHON names another interpreter.
aws_gate_python=${AWS_GATE_PYTHON:-.venv/bin/python}
if [ -z "${MOTO_ENDPOINT:-}" ]; then
  echo "scripts/lib/aws_gate.sh: MOTO_ENDPOINT is not set: source scripts/lib/moto.sh first" >&2
  exit 1
fi
aws_gate_port=$("$aws_gate_python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p target
"$aws_gate_python" scripts/lib/aws_gate.py --port "$aws_gate_port" --backend "$MOTO_ENDPOINT" \
  >target/aws-gate.log 2>&1 &
aws_gate_pid=$!
# Chain the EXIT trap: `trap -p EXIT` prints `trap -- 'COMMAND' EXIT`; keep COMMAND and run it after
# stopping the gate.
aws_gate_previous_exit_trap=$(trap -p EXIT)
if [ -n "$aws_gate_previous_exit_trap" ]; then
  eval "aws_gate_previous_exit_trap=( $aws_gate_previous_exit_trap )"
  aws_gate_previous_exit_trap=${aws_gate_previous_exit_trap[2]}
fi
trap 'kill "$aws_gate_pid" 2>/dev/null || true; eval "$aws_gate_previous_exit_trap"' EXIT
for _ in $(seq 1 100); do
  curl -s -m 1 -o /dev/null "http://127.0.0.1:$aws_gate_port/_gate/health" && break
  kill -0 "$aws_gate_pid" 2>/dev/null || break
  sleep 0.2
done
if ! curl -s -m 1 -o /dev/null "http://127.0.0.1:$aws_gate_port/_gate/health"; then
  echo "the AWS request gate did not start:"; cat target/aws-gate.log; exit 1
fi
export AWS_GATE_ENDPOINT="http://127.0.0.1:$aws_gate_port"
