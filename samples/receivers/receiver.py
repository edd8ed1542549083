#!/usr/bin/env python3
"""A Herald receiver in Python, standard library only: verifies each notification's signature
(Standard Webhooks), handles each webhook-id once, and prints what arrived.

    HERALD_WEBHOOK_SECRET=whsec_... python3 receiver.py [port]     # several secrets: comma-separated
    python3 receiver.py --self-test                                 # checks the documented test vector
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Lock

TOLERANCE_SECONDS = 5 * 60


def key_of(secret):
    """The HMAC key: the standard base64 after the whsec_ prefix."""
    secret = secret.strip()
    if secret.startswith("whsec_"):
        secret = secret[len("whsec_"):]
    return base64.b64decode(secret + "=" * (-len(secret) % 4))


def sign(secret, webhook_id, timestamp, body):
    """v1, then the base64 of HMAC-SHA256 over "{id}.{timestamp}.{body}" (the raw body bytes)."""
    signed = webhook_id.encode() + b"." + timestamp.encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key_of(secret), signed, hashlib.sha256).digest()).decode()


def verify(secrets, headers, body, now=None):
    """Whether a request is Herald's: a recent timestamp and one of its signatures made with one of the secrets."""
    webhook_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not webhook_id or not timestamp or not signatures or not timestamp.isdigit():
        return False
    if abs((now or time.time()) - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    # During a rotation's grace there is one signature per secret, space-separated, newest first.
    given = signatures.split(" ")
    for secret in secrets:
        expected = sign(secret, webhook_id, timestamp, body)
        if any(hmac.compare_digest(expected, s) for s in given):
            return True
    return False


SECRETS = [s for s in os.environ.get("HERALD_WEBHOOK_SECRET", "").split(",") if s.strip()]
SEEN = set()
SEEN_LOCK = Lock()


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        # The raw bytes as they arrived: a body parsed and written again no longer matches its signature.
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {k.lower(): v for k, v in self.headers.items()}
        if not verify(SECRETS, headers, body):
            print(f"rejected {headers.get('webhook-id')}: no signature matches", flush=True)
            return self.answer(401)
        webhook_id = headers["webhook-id"]
        with SEEN_LOCK:
            first = webhook_id not in SEEN
            SEEN.add(webhook_id)
        if first:
            event = json.loads(body)
            # transaction: status; point: state; thin and tests: event_type.
            what = event.get("event_type") or event.get("status") or event.get("state")
            print(f"verified {webhook_id} attempt={headers.get('webhook-attempt')} {what}", flush=True)
        else:
            print(f"duplicate {webhook_id} attempt={headers.get('webhook-attempt')} (handled already)", flush=True)
        # 200 whatever the format: the transaction format counts only 200 as received.
        self.answer(200)

    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def self_test():
    secret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    body = b'{"id":"evt_01jzq0r5d7f2m3k4n5p6q7r8s9","event_type":"PAYMENT_ORDER.CLOSED","entity_type":"PAYMENT_ORDER","entity_id":"GxGO5tTQpx"}'
    headers = {"webhook-id": "evt_01jzq0r5d7f2m3k4n5p6q7r8s9", "webhook-timestamp": "1767225600",
               "webhook-signature": "v1,EqT05f7lOJAVOlrLkx/VKj4tIJmN+lpmlkCLYkclr34="}
    assert sign(secret, headers["webhook-id"], headers["webhook-timestamp"], body) == headers["webhook-signature"]
    assert verify([secret], headers, body, now=1767225600)
    assert not verify([secret], headers, body + b" ", now=1767225600)
    assert not verify([secret], headers, body, now=1767225600 + TOLERANCE_SECONDS + 1)
    print("self-test passed")


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        sys.exit(0)
    if not SECRETS:
        sys.exit("set HERALD_WEBHOOK_SECRET to the endpoint's secret (whsec_...)")
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Receiver).serve_forever()
