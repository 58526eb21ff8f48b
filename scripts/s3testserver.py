#!/usr/bin/env python3
"""A loopback S3 server for ffcol's tests: moto (checking SigV4) plus a fault-injecting proxy.

Usage: s3testserver.py --env-file PATH [--bucket flatfiles]

Starts, on free 127.0.0.1 ports:
  * moto's S3 server, with signature checking turned on (an IAM user with an s3:* policy
    and an access key are created first, then POST /moto-api/reset-auth with body 0);
  * a proxy in front of it that forwards requests unchanged, and on demand answers
    500/503/SlowDown, resets the connection, cuts a response body half way, or stalls.

Then writes shell `export` lines to --env-file (endpoint, proxy, keys, bucket) and serves
until killed.

Proxy control (not forwarded): `POST /__fault__` with a body of lines `MODE COUNT [MATCH]`,
MODE one of 500, 503, slowdown, reset, cut, stall, COUNT how many matching requests get the
fault, MATCH a substring of the request target (default: any). `POST /__fault__` with an
empty body clears the plan. `GET /__stats__` returns the number of faults injected and
requests forwarded.

Why a wrapper around moto's entry point: moto 5.2 with werkzeug 3.1 checks the signature
against a request URL whose query has been percent-decoded (`prefix=a%2Fb` becomes `a/b`),
so a correctly signed ListObjectsV2 with an encoded prefix is refused. The patch below makes
the check use the raw request target, as S3 does. The client is not weakened.
"""
import argparse
import json
import os
import socket
import sys
import threading
import time
from urllib.parse import urlparse

# MARK: moto patch: check signatures against the raw request target

from moto.core import responses as moto_responses
from moto.core.authorization import ActionAuthenticatorMixin

_orig_setup = moto_responses.BaseResponse.setup_class


def _setup_class(self, request, full_url, headers, *a, **k):
    _orig_setup(self, request, full_url, headers, *a, **k)
    env = getattr(request, "environ", None) or {}
    raw = env.get("RAW_URI") or env.get("REQUEST_URI")
    self._ffcol_raw_target = raw


moto_responses.BaseResponse.setup_class = _setup_class

_orig_auth = ActionAuthenticatorMixin._authenticate_and_authorize_action


def _auth(self, iam_request_cls, resource="*"):
    raw = getattr(self, "_ffcol_raw_target", None)
    if not raw:
        return _orig_auth(self, iam_request_cls, resource)
    parts = urlparse(raw)
    # S3 signs the path and the query as sent (encoded once by the client); botocore's
    # S3SigV4Auth uses the path unchanged, so hand it the raw target.
    target = parts.path + ("?" + parts.query if parts.query else "")
    saved = self.uri
    self.uri = target
    try:
        return _orig_auth(self, iam_request_cls, resource)
    finally:
        self.uri = saved


ActionAuthenticatorMixin._authenticate_and_authorize_action = _auth


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_moto(port):
    from werkzeug.serving import make_server
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    os.environ["MOTO_PORT"] = str(port)
    app = DomainDispatcherApplication(create_backend_app)
    srv = make_server("127.0.0.1", port, app, threaded=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    return srv


# MARK: fault-injecting proxy

class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.plan = []  # [mode, count, match]
        self.injected = 0
        self.forwarded = 0

    def set(self, text):
        plan = []
        for line in text.splitlines():
            f = line.split()
            if not f:
                continue
            plan.append([f[0], int(f[1]) if len(f) > 1 else 1, f[2] if len(f) > 2 else ""])
        with self.lock:
            self.plan = plan

    def take(self, target):
        with self.lock:
            for entry in self.plan:
                if entry[1] > 0 and entry[2] in target:
                    entry[1] -= 1
                    self.injected += 1
                    return entry[0]
            self.forwarded += 1
            return None


def read_head(sock, buf=b""):
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None, buf
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest


def content_length(head):
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            return int(v.strip())
    return None


def read_exact(sock, rest, n):
    while len(rest) < n:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return rest[:n]


def error_response(status, code, message):
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>").encode()
    reason = {500: "Internal Server Error", 503: "Service Unavailable"}[status]
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


def rst_close(sock):
    import struct
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def handle(client, moto_port, faults, stall_seconds):
    try:
        head, rest = read_head(client)
        if head is None:
            client.close()
            return
        n = content_length(head) or 0
        body = read_exact(client, rest, n)
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        method, target = request_line.split(" ")[:2]
        if target.startswith("/__fault__"):
            faults.set(body.decode())
            client.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            client.close()
            return
        if target.startswith("/__stats__"):
            out = json.dumps({"injected": faults.injected, "forwarded": faults.forwarded}).encode()
            client.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(out) + out)
            client.close()
            return
        mode = faults.take(target)
        if mode == "500":
            client.sendall(error_response(500, "InternalError", "We encountered an internal error. Please try again."))
            client.close()
            return
        if mode == "503":
            client.sendall(error_response(503, "ServiceUnavailable", "Please reduce your request rate."))
            client.close()
            return
        if mode == "slowdown":
            client.sendall(error_response(503, "SlowDown", "Please reduce your request rate."))
            client.close()
            return
        if mode == "reset":
            rst_close(client)
            return
        # Forward unchanged (the Host header, which the client signed, is kept).
        up = socket.create_connection(("127.0.0.1", moto_port))
        up.sendall(head + b"\r\n\r\n" + body)
        rhead, rrest = read_head(up)
        if rhead is None:
            up.close()
            rst_close(client)
            return
        rn = content_length(rhead)
        if method == "HEAD" or rhead.split(b" ")[1] in (b"204", b"304"):
            rbody = b""
        elif rn is not None:
            rbody = read_exact(up, rrest, rn)
        else:
            rbody = rrest
            while True:
                c = up.recv(65536)
                if not c:
                    break
                rbody += c
        up.close()
        lines = [l for l in rhead.split(b"\r\n") if not l.lower().startswith(b"connection:")]
        out_head = b"\r\n".join(lines) + b"\r\nConnection: close\r\n\r\n"
        if mode == "cut" and len(rbody) > 1:
            # Half the body, then a clean close: the client sees a short body.
            client.sendall(out_head + rbody[: len(rbody) // 2])
            client.shutdown(socket.SHUT_WR)
            client.close()
            return
        if mode == "stall" and len(rbody) > 1:
            # Half the body, then silence; the client must notice the stall by itself.
            client.sendall(out_head + rbody[: len(rbody) // 2])
            time.sleep(stall_seconds)
            rst_close(client)
            return
        client.sendall(out_head + rbody)
        client.close()
    except Exception as e:  # keep serving
        sys.stderr.write(f"proxy: {e!r}\n")
        try:
            client.close()
        except Exception:
            pass


def start_proxy(port, moto_port, faults, stall_seconds):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(64)

    def loop():
        while True:
            c, _ = ls.accept()
            threading.Thread(target=handle, args=(c, moto_port, faults, stall_seconds), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


# MARK: setup: IAM user, policy, key, then signature checking on

def setup(endpoint, bucket):
    import boto3
    import urllib.request

    kw = dict(endpoint_url=endpoint, region_name="us-east-1",
              aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    boto3.client("s3", **kw).create_bucket(Bucket=bucket)
    iam = boto3.client("iam", **kw)
    iam.create_user(UserName="ffcol-test")
    policy = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    arn = iam.create_policy(PolicyName="ffcol-s3-all", PolicyDocument=json.dumps(policy))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="ffcol-test", PolicyArn=arn)
    key = iam.create_access_key(UserName="ffcol-test")["AccessKey"]
    # A second user without S3 rights, for 403 AccessDenied.
    iam.create_user(UserName="ffcol-noaccess")
    key2 = iam.create_access_key(UserName="ffcol-noaccess")["AccessKey"]
    req = urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0",
                                 headers={"Content-Type": "text/plain"}, method="POST")
    urllib.request.urlopen(req).read()
    return key, key2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--env-file", required=True)
    ap.add_argument("--bucket", default="flatfiles")
    ap.add_argument("--stall-seconds", type=float, default=30.0)
    args = ap.parse_args()

    moto_port = free_port()
    start_moto(moto_port)
    endpoint = f"http://127.0.0.1:{moto_port}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", moto_port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    key, key2 = setup(endpoint, args.bucket)
    faults = Faults()
    proxy_port = free_port()
    start_proxy(proxy_port, moto_port, faults, args.stall_seconds)

    tmp = args.env_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"export FFCOL_TEST_S3_ENDPOINT=http://127.0.0.1:{moto_port}\n")
        f.write(f"export FFCOL_TEST_S3_PROXY=http://127.0.0.1:{proxy_port}\n")
        f.write(f"export FFCOL_TEST_S3_BUCKET={args.bucket}\n")
        f.write(f"export FFCOL_TEST_S3_ACCESS_KEY_ID={key['AccessKeyId']}\n")
        f.write(f"export FFCOL_TEST_S3_SECRET_ACCESS_KEY={key['SecretAccessKey']}\n")
        f.write(f"export FFCOL_TEST_S3_NOACCESS_KEY_ID={key2['AccessKeyId']}\n")
        f.write(f"export FFCOL_TEST_S3_NOACCESS_SECRET={key2['SecretAccessKey']}\n")
    os.replace(tmp, args.env_file)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
