"""A throttling proxy in front of moto's SSM API: Parameter Store's throughput quota, locally.

Why: moto answers every call, however many arrive per second, while real Parameter Store
throttles an account and Region once the calls that share its throughput quota go over it. To see
what hundreds of Lambda instances cold-starting at once do to that quota (issue #27,
scripts/simulate-scale), the function's real binary and real AWS SDK must meet a server that
throttles the way SSM does. This proxy is that server: it forwards every request to moto
unchanged and, for the operations that share the quota, first takes a token from a token bucket
(rate R per second, burst B). Without a token it answers itself, as SSM does when throttling.

Which operations share the quota: "Parameter Store throughput defines the number of API
transactions per second (TPS) that Systems Manager can process. This applies to GetParameter,
GetParameters, and PutParameter API calls for your AWS account and AWS Region." (AWS Systems
Manager API Reference, GetParameter, note;
https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html). The
default rate, 40, is the standard-throughput figure other sources quote from AWS Systems Manager
endpoints and quotas (https://docs.aws.amazon.com/general/latest/gr/ssm.html), not checked
against that page here (docs/operations.md, "At scale", says so); `--rate` changes it and
`--operations` the set.

The throttling answer (AWS JSON 1.1 protocol, which SSM speaks):

    HTTP/1.1 400 Bad Request
    x-amzn-RequestId: <uuid>
    Content-Type: application/x-amz-json-1.1
    Content-Length: 58

    {"__type":"ThrottlingException","message":"Rate exceeded"}

Status 400 with code ThrottlingException and message "Rate exceeded" is what SDKs report for a
throttled SSM GetParameter ("https response error StatusCode: 400, RequestID: ..., api error
ThrottlingException: Rate exceeded", aws-sdk-go-v2, in https://github.com/sst/sst/issues/4063);
the AWS JSON error body carries the code in `__type` (or the `x-amzn-ErrorType` header,
`--error-type-header` adds it). The Rust SDK (aws-sdk-ssm 1.83, `json_errors.rs`,
`parse_error_metadata`) takes the code from `x-amzn-errortype` or else `code`/`__type`, and
aws-runtime 1.5.16 (`retries/classifiers.rs`, `AwsErrorCodeClassifier`, `THROTTLING_ERRORS`)
classifies `ThrottlingException` as `ErrorKind::ThrottlingError`: retryable, as for real SSM.

Every SSM call (any `X-Amz-Target: AmazonSSM.*`) is logged as one JSON line to the log file:
`{"t": <time.monotonic()>, "op": "GetParameter", "result": "allowed"|"throttled", "quota": true}`
(`quota` false: an operation outside the quota, always forwarded). `time.monotonic()` is
CLOCK_MONOTONIC, shared by every process on the machine, so the driver can put calls on its own
timeline and compute per-second rates.

Usage: ssm_throttle.py UPSTREAM LOGFILE [--port N] [--rate R] [--burst B] [--operations ...]
Prints `port N` as its first line on stdout once it listens (port 0 = a free port). asyncio, so
hundreds of concurrent keep-alive connections cost one thread; each forwarded request opens its
own connection to moto (`Connection: close`), so moto's threads serve them concurrently.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import signal
import sys
import time
import uuid
from email.utils import formatdate
from urllib.parse import urlsplit

QUOTA_OPERATIONS = ("GetParameter", "GetParameters", "PutParameter")
THROTTLE_BODY = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
MAX_BODY = 16 * 1024 * 1024


class HttpError(Exception):
    """A malformed HTTP message."""


async def read_http_message(reader: asyncio.StreamReader):
    """Reads one HTTP/1.x message (request or response) with its body (Content-Length or
    chunked). Returns (start_line, headers as a list of (name, value), body), or None at a clean
    end of stream before a message starts."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if not e.partial.strip():
            return None
        raise HttpError("connection closed inside the headers") from e
    lines = head[:-4].decode("latin-1").split("\r\n")
    start, headers = lines[0], []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise HttpError(f"bad header line {line!r}")
        headers.append((name.strip(), value.strip()))
    lower = {k.lower(): v for k, v in headers}
    if "chunked" in lower.get("transfer-encoding", "").lower():
        body = bytearray()
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                # Trailers, up to the empty line.
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        headers = [(k, v) for k, v in headers if k.lower() != "transfer-encoding"]
        return start, headers, bytes(body)
    length = int(lower.get("content-length", "0") or 0)
    if length > MAX_BODY:
        raise HttpError("body too large")
    body = await reader.readexactly(length) if length else b""
    return start, headers, body


def header(headers, name: str, default: str = "") -> str:
    name = name.lower()
    for k, v in headers:
        if k.lower() == name:
            return v
    return default


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class TokenBucket:
    """`rate` tokens per second, at most `burst` stored; starts full."""

    def __init__(self, rate: float, burst: float):
        self.rate, self.burst = rate, burst
        self.tokens, self.last = burst, time.monotonic()

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class Proxy:
    def __init__(self, upstream: str, log, bucket: TokenBucket, operations, error_type_header):
        u = urlsplit(upstream)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.log, self.bucket = log, bucket
        self.operations = set(operations)
        self.error_type_header = error_type_header
        self.connections = 0

    def record(self, t: float, op: str, result: str, quota: bool) -> None:
        self.log.write(
            json.dumps({"t": round(t, 6), "op": op, "result": result, "quota": quota}) + "\n"
        )

    async def forward(self, start: str, headers, body: bytes) -> bytes:
        """Sends the request to moto on a fresh connection; returns the raw response to relay."""
        r, w = await asyncio.open_connection(self.host, self.port)
        try:
            out = [start]
            for k, v in headers:
                if k.lower() not in ("connection", "keep-alive", "content-length",
                                     "transfer-encoding", "proxy-connection"):
                    out.append(f"{k}: {v}")
            out += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
            w.write("\r\n".join(out).encode("latin-1") + body)
            await w.drain()
            msg = await read_http_message(r)
            if msg is None:
                raise HttpError("moto closed the connection without answering")
            status, rheaders, rbody = msg
            if rbody == b"" and not header(rheaders, "content-length") and \
                    not status.split(" ")[1:2] in (["204"], ["304"]):
                # A response delimited by the end of the connection.
                rbody = await r.read()
        finally:
            w.close()
        version, _, rest = status.partition(" ")
        lines = [f"HTTP/1.1 {rest}"]
        for k, v in rheaders:
            if k.lower() not in ("connection", "keep-alive", "content-length",
                                 "transfer-encoding"):
                lines.append(f"{k}: {v}")
        lines += [f"Content-Length: {len(rbody)}", "", ""]
        return "\r\n".join(lines).encode("latin-1") + rbody

    def throttled(self) -> bytes:
        lines = [
            "HTTP/1.1 400 Bad Request",
            f"x-amzn-RequestId: {uuid.uuid4()}",
            "Content-Type: application/x-amz-json-1.1",
            f"Content-Length: {len(THROTTLE_BODY)}",
            f"Date: {formatdate(usegmt=True)}",
        ]
        if self.error_type_header:
            lines.append("x-amzn-ErrorType: ThrottlingException")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + THROTTLE_BODY

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                msg = await read_http_message(reader)
                if msg is None:
                    break
                start, headers, body = msg
                target = header(headers, "x-amz-target")
                op = target.split(".", 1)[1] if target.startswith("AmazonSSM.") else None
                now = time.monotonic()
                if op is not None and op in self.operations and not self.bucket.take(now):
                    self.record(now, op, "throttled", True)
                    writer.write(self.throttled())
                else:
                    if op is not None:
                        self.record(now, op, "allowed", op in self.operations)
                    try:
                        writer.write(await self.forward(start, headers, body))
                    except (OSError, HttpError, asyncio.IncompleteReadError) as e:
                        err = json.dumps({"__type": "InternalServerError",
                                          "message": f"proxy: {e}"}).encode()
                        writer.write(
                            b"HTTP/1.1 500 Internal Server Error\r\n"
                            b"Content-Type: application/x-amz-json-1.1\r\n"
                            + f"Content-Length: {len(err)}\r\n\r\n".encode() + err
                        )
                await writer.drain()
                if header(headers, "connection").lower() == "close":
                    break
        except (OSError, HttpError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self.connections -= 1
            writer.close()


async def main_async(args) -> None:
    raise_nofile()
    log = open(args.log, "a", buffering=1)
    proxy = Proxy(args.upstream, log, TokenBucket(args.rate, args.burst or args.rate),
                  args.operations, args.error_type_header)
    server = await asyncio.start_server(proxy.serve, "127.0.0.1", args.port, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    print(f"port {port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
    log.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("upstream", help="moto endpoint, e.g. http://127.0.0.1:5000")
    p.add_argument("log", help="JSON-lines log of every SSM call (appended)")
    p.add_argument("--port", type=int, default=0, help="listening port (0: a free one)")
    p.add_argument("--rate", type=float, default=40.0, help="tokens per second (default 40)")
    p.add_argument("--burst", type=float, default=0.0, help="bucket size (default: the rate)")
    p.add_argument("--operations", nargs="+", default=list(QUOTA_OPERATIONS),
                   help="operations sharing the quota (default: %(default)s)")
    p.add_argument("--error-type-header", action="store_true",
                   help="also send x-amzn-ErrorType: ThrottlingException")
    args = p.parse_args()
    if args.rate <= 0:
        p.error("--rate must be positive")
    try:
        asyncio.run(main_async(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
