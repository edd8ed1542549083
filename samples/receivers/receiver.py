#!/usr/bin/env python3
"""A Herald receiver in Python, standard library only: verifies each notification's signature
(Standard Webhooks), handles each webhook-id once, and prints what arrived. It serves one endpoint;
run one per endpoint (one event goes under the same webhook-id to every endpoint it is for).

    HERALD_WEBHOOK_SECRET=whsec_... python3 receiver.py [port]     # old and new while rotating: comma-separated
    python3 receiver.py --self-test                                 # checks the documented test vector
"""
import base64
import hashlib
import hmac
import binascii
import errno
import json
import os
import re
import sys
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Lock

TOLERANCE_SECONDS = 5 * 60
MAX_BODY_BYTES = 1024 * 1024
# Handled ids remembered, the oldest forgotten first. A captured request can be sent again only
# while its timestamp is within the tolerance, so forgetting is safe unless more than this many
# notifications arrive in 5 minutes; a retry of an id forgotten is handled again.
MAX_SEEN = 100_000


def key_of(secret):
    """The HMAC key: the standard base64 after the whsec_ prefix, at least 16 bytes (a placeholder
    such as whsec_... decodes to nothing, and a key anyone knows would let forgeries through)."""
    encoded = secret.strip()
    if encoded.startswith("whsec_"):
        encoded = encoded[len("whsec_"):]
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) < 16:
        raise ValueError("not an endpoint secret (whsec_ and the base64 of its key): " + secret[:10] + "...")
    return key


def sign(secret, webhook_id, timestamp, body):
    """v1, then the base64 of HMAC-SHA256 over "{id}.{timestamp}.{body}" (the raw body bytes)."""
    signed = webhook_id.encode() + b"." + timestamp.encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key_of(secret), signed, hashlib.sha256).digest()).decode()


def refusal(secrets, headers, body, now=None):
    """Why a request is not Herald's, or None when it is: a recent timestamp and one of its
    signatures made with one of the secrets. The reasons are the receiver kit's, so a stale clock
    is not mistaken for a wrong secret."""
    missing = [name for name in ("webhook-id", "webhook-timestamp", "webhook-signature") if not headers.get(name)]
    if missing:
        return "missing " + ", ".join(missing)
    webhook_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    # Plain digits, as Herald writes them: a sign, a fraction or a leading zero is refused, as the
    # receiver kit refuses it (the signed text and the time it is read as could disagree).
    if not re.fullmatch(r"0|[1-9][0-9]{0,11}", timestamp):
        return "webhook-timestamp is not unix seconds"
    skew = int(now or time.time()) - int(timestamp)
    if skew > TOLERANCE_SECONDS:
        return f"timestamp too old: {skew} s behind this machine's clock (tolerance {TOLERANCE_SECONDS} s)"
    if -skew > TOLERANCE_SECONDS:
        return f"timestamp too new: {-skew} s ahead of this machine's clock (tolerance {TOLERANCE_SECONDS} s)"
    # During a rotation's grace there is one signature per secret, space-separated, newest first.
    given = [s.encode() for s in headers["webhook-signature"].split(" ") if s.isascii()]
    for secret in secrets:
        expected = sign(secret, webhook_id, timestamp, body).encode()
        if any(hmac.compare_digest(expected, s) for s in given):
            return None
    return "no signature matches the configured secrets"


def verify(secrets, headers, body, now=None):
    """Whether a request is Herald's (see refusal)."""
    return refusal(secrets, headers, body, now) is None


def parse(body):
    """The body's JSON, its amounts as Decimals: 12.50 stays 12.50 (a float would read 12.5, and lose
    digits past the 15th of the 28 Herald takes)."""
    return json.loads(body, parse_float=Decimal)


def readable(body):
    """The body's JSON object, or None for a body that is not one (not JSON, or an array, a string,
    a number, null)."""
    try:
        event = parse(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep to read
        return None
    return event if isinstance(event, dict) else None


SECRETS = [s for s in os.environ.get("HERALD_WEBHOOK_SECRET", "").split(",") if s.strip()]
SEEN = {}  # a dict, not a set: it keeps the order ids were noted in, so the oldest goes first
SEEN_LOCK = Lock()


def remember(webhook_id):
    """Notes an id handled (under SEEN_LOCK), forgetting the oldest past MAX_SEEN."""
    SEEN[webhook_id] = None
    if len(SEEN) > MAX_SEEN:
        del SEEN[next(iter(SEEN))]


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        try:
            self.receive()
        except Exception as e:  # not handled: answered 500, so Herald tries again
            print(f"failed: {e}", flush=True)
            self.answer(500)

    def receive(self):
        # Herald always sends Content-Length; a body is read whole, within a bound, before it is checked.
        length = self.headers.get("Content-Length")
        if length is None or not length.isascii() or not length.isdigit():
            self.close_connection = True
            return self.answer(411)
        if int(length) > MAX_BODY_BYTES:
            self.close_connection = True
            return self.answer(413)
        # The raw bytes as they arrived: a body parsed and written again no longer matches its signature.
        body = self.rfile.read(int(length))
        headers = {k.lower(): v for k, v in self.headers.items()}
        reason = refusal(SECRETS, headers, body)
        if reason is not None:
            print(f"rejected {headers.get('webhook-id')}: {reason}", flush=True)
            return self.answer(401)
        webhook_id = headers["webhook-id"]
        attempt = headers.get("webhook-attempt")
        event = readable(body)
        # transaction: status; point: state; thin and tests: event_type; operator events: type.
        what = None if event is None else event.get("event_type") or event.get("status") or event.get("state") or event.get("type")
        if webhook_id.startswith("evt_test_") and what != "HERALD.TEST":
            # An example an endpoint's test sent: about an entity that does not exist. Told by the
            # signed id, not by the webhook-test header beside it, which is outside the signature.
            print(f"example {webhook_id} {what} verified (not handled)", flush=True)
            return self.answer(200)
        # Told apart by the webhook-id alone. The path and query are not signed: keyed on them, a
        # captured request sent again to /webhooks?r=1 or /x would be handled again.
        with SEEN_LOCK:
            if webhook_id in SEEN:
                print(f"duplicate {webhook_id} attempt={attempt} (handled already)", flush=True)
            else:
                # Your handling goes here; the id is noted once it has succeeded.
                # transaction: paymentAmount; point: amount (thin bodies carry none: GET the order).
                if event is None:
                    # Signed, so Herald's, yet not a JSON object (Herald sends none such): handled and
                    # acknowledged as the receiver kit hands it over (an OtherEvent), not failed with a
                    # 500 that Herald would retry for days with the same body.
                    print(f"verified {webhook_id} attempt={attempt} (not a JSON object)", flush=True)
                else:
                    amount = event.get("paymentAmount", event.get("amount"))
                    print(f"verified {webhook_id} attempt={attempt} {what}" + ("" if amount is None else f" {amount}"), flush=True)
                remember(webhook_id)
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
    assert refusal([secret], headers, body, now=1767225600 + 412) == "timestamp too old: 412 s behind this machine's clock (tolerance 300 s)"
    assert refusal([secret], headers, body, now=1767225600 - 412) == "timestamp too new: 412 s ahead of this machine's clock (tolerance 300 s)"
    assert refusal([secret], headers, body + b" ", now=1767225600) == "no signature matches the configured secrets"
    assert refusal([secret], {**headers, "webhook-signature": ""}, body, now=1767225600) == "missing webhook-signature"
    amounts = parse(b'{"paymentAmount":12.50,"amount":1234567890123456789.12}')
    assert str(amounts["paymentAmount"]) == "12.50" and str(amounts["amount"]) == "1234567890123456789.12", "amounts are not read exactly"
    for placeholder in ("whsec_...", "whsec_xxx", "changeme"):
        try:
            key_of(placeholder)
            raise AssertionError(placeholder + " was taken as a secret")
        except ValueError:
            pass
    for n in range(MAX_SEEN + 1):
        remember(f"evt_{n}")
    assert "evt_0" not in SEEN and "evt_1" in SEEN and len(SEEN) == MAX_SEEN, "handled ids are not bounded"
    print("self-test passed")


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        sys.exit(0)
    if not SECRETS:
        sys.exit("set HERALD_WEBHOOK_SECRET to the endpoint's secret (whsec_...)")
    try:
        for configured in SECRETS:
            key_of(configured)
    except ValueError as e:
        sys.exit(f"HERALD_WEBHOOK_SECRET: {e}")
    given = sys.argv[1] if len(sys.argv) > 1 else "4000"
    if not given.isascii() or not given.isdigit() or not 1 <= int(given) <= 65535:
        sys.exit(f"the port is a number from 1 to 65535, not '{given}'")
    port = int(given)
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    except OSError as e:
        hint = " (another process holds it? give another port)" if e.errno == errno.EADDRINUSE else ""
        sys.exit(f"cannot listen on 127.0.0.1:{port}: {e.strerror}{hint}")
    # Said once the port is taken: what waits for this line then finds the receiver answering.
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    server.serve_forever()
