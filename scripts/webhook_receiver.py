#!/usr/bin/env python3
"""A local webhook endpoint: what a customer's receiver does with the webhooks function's POSTs.

It verifies each delivery with `standardwebhooks`, the Standard Webhooks reference library a
customer would use, so a signature the functions make that the library does not take (another
signed content, encoding, header or secret format) fails locally as it would at the customer's:

  PUT    /_hooks/<name>  {"secret": "whsec_...", "fail_next": 0, "fail_status": 500}
                         registers the hook, or updates it and keeps what it received; the next
                         `fail_next` POSTs to it are answered with `fail_status`, as an endpoint
                         that is down (each counted in `failed`)
  POST   /hooks/<name>   a delivery: 404 for an unknown hook; else, unless failing, 401 when the
                         signature does not verify (webhook-id, webhook-timestamp within 5
                         minutes, a webhook-signature that matches) or the body is not JSON
                         (counted in `rejected`), else 204 and the delivery is recorded.
                         A body of type application/secevent+jwt (an endpoint of format `set`)
                         must also be a Security Event Token that PyJWT verifies (HS256 with the
                         hook's secret, `typ` secevent+jwt, `aud` this URL, the claims RFC 8417
                         requires); it is answered 202 (RFC 8935) and its claims are the `body`
  GET    /_hooks/<name>  {"deliveries": [...], "failed": n, "rejected": n}, deliveries in arrival
                         order, each {"id", "timestamp", "signature", "body", "received_at",
                         "duplicate", "format"}: `duplicate` when the hook had already taken that
                         webhook-id, as a receiver deduplicating on it would see
  DELETE /_hooks/<name>  forgets the hook
  GET    /_health        200

Each POST is logged as a JSON line. The tests give each of their hooks a name of its own, so
parallel tests never read each other's deliveries.
Usage: webhook_receiver.py [PORT]  (default: $SCIM_WEBHOOK_RECEIVER_PORT), on 127.0.0.1.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import base64

import jwt
from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook, WebhookVerificationError

SET_TYPE = "application/secevent+jwt"

HOOKS = {}  # name -> {"webhook", "fail_next", "fail_status", "deliveries", "seen", ...}
LOCK = threading.Lock()


def log(message, **fields):
    print(json.dumps({"msg": message, **fields}, default=str), flush=True)


def register(name, spec):
    """PUT /_hooks/<name>: (status, answer)."""
    try:
        webhook = Webhook(spec["secret"])
        fail_next = int(spec.get("fail_next", 0))
        fail_status = int(spec.get("fail_status", 500))
    except (KeyError, TypeError, ValueError, EmptyWebhookSecretError) as e:  # binascii too
        return 400, {"message": f"bad hook: {e!r}"}
    if not name or not 100 <= fail_status <= 599:
        return 400, {"message": "a hook name and a fail_status 100-599"}
    with LOCK:
        hook = HOOKS.setdefault(name, {"deliveries": [], "seen": set(), "failed": 0, "rejected": 0})
        hook.update(webhook=webhook, secret=spec["secret"], fail_next=fail_next,
                    fail_status=fail_status)
    return 200, {"hook": name, "fail_next": fail_next, "fail_status": fail_status}


def decode_set(token, secret, audience):
    """The claims of a Security Event Token, verified as a receiver would with PyJWT."""
    if jwt.get_unverified_header(token).get("typ") != "secevent+jwt":
        raise jwt.InvalidTokenError("typ is not secevent+jwt")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    return jwt.decode(token, key, algorithms=["HS256"], audience=audience,
                      options={"require": ["iss", "iat", "jti", "aud", "events"]})


def deliver(name, body, headers, url):
    """POST /hooks/<name> at `url`: (status, answer)."""
    with LOCK:
        hook = HOOKS.get(name)
        if hook is None:
            return 404, {"message": f"no hook {name!r}"}
        entry = {"hook": name, "id": headers.get("webhook-id"), "bytes": len(body)}
        if hook["fail_next"] > 0:
            hook["fail_next"] -= 1
            hook["failed"] += 1
            log("failed on purpose", status=hook["fail_status"], **entry)
            return hook["fail_status"], {"message": "failing on purpose"}
        is_set = headers.get("content-type", "").startswith(SET_TYPE)
        try:
            if is_set:
                hook["webhook"].verify(body, headers, json_parse=False)
                payload = decode_set(body.decode(), hook["secret"], url)
            else:
                payload = hook["webhook"].verify(body, headers)
        except (WebhookVerificationError, ValueError, jwt.InvalidTokenError) as e:  # not JSON
            hook["rejected"] += 1
            log("rejected", error=str(e), **entry)
            return 401, {"message": str(e)}
        timestamp = headers["webhook-timestamp"]
        duplicate = entry["id"] in hook["seen"]
        hook["seen"].add(entry["id"])
        hook["deliveries"].append({
            "id": entry["id"],
            "timestamp": int(timestamp) if timestamp.isdigit() else timestamp,
            "signature": headers["webhook-signature"],
            "body": payload,
            "received_at": round(time.time(), 3),
            "duplicate": duplicate,
            "format": "set" if is_set else "event",
        })
    log("delivered", duplicate=duplicate, **entry)
    return (202 if is_set else 204), None


def received(name):
    """GET /_hooks/<name>: (status, answer)."""
    with LOCK:
        hook = HOOKS.get(name)
        if hook is None:
            return 404, {"message": f"no hook {name!r}"}
        # Deliveries are never changed once recorded: a copy of the list is a snapshot.
        return 200, {"deliveries": list(hook["deliveries"]), "failed": hook["failed"],
                     "rejected": hook["rejected"]}


class Receiver(BaseHTTPRequestHandler):
    def do_PUT(self):
        try:
            spec = json.loads(self._body())
        except ValueError:
            return self._answer(400, {"message": "a JSON body"})
        self._answer(*register(self._name("/_hooks/"), spec if isinstance(spec, dict) else {}))

    def do_POST(self):
        headers = {k.lower(): v for k, v in self.headers.items()}
        url = f"http://{headers.get('host', '')}{self.path}"
        self._answer(*deliver(self._name("/hooks/"), self._body(), headers, url))

    def do_GET(self):
        if self.path == "/_health":
            return self._answer(200, {"status": "ok"})
        self._answer(*received(self._name("/_hooks/")))

    def do_DELETE(self):
        with LOCK:
            gone = HOOKS.pop(self._name("/_hooks/"), None)
        self._answer(204 if gone else 404)

    def _name(self, prefix):
        path = self.path.split("?", 1)[0]
        return path[len(prefix):] if path.startswith(prefix) else ""

    def _body(self):
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def _answer(self, status, payload=None):
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if data:
            self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):  # the JSON lines above say what happened
        pass


def main():
    port = int(sys.argv[1] if len(sys.argv) > 1 else os.environ["SCIM_WEBHOOK_RECEIVER_PORT"])
    server = ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    log("receiving", url=f"http://127.0.0.1:{port}")
    server.serve_forever()


if __name__ == "__main__":
    main()
