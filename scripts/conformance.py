#!/usr/bin/env python3
"""Runs scim2-tester (a third-party SCIM compliance checker) against the local stack.

Every check it offers runs; any result other than SUCCESS fails the run (a skip too, unless listed
in EXPECTED_SKIPS with its reason: none is), except the one deliberate deviation in
is_sticky_active (also in the README and docs/ARCHITECTURE.md).

The tester's HTTP client honours 429 and 503 with Retry-After, as Okta and Entra do: the endpoint
limits each token to its tenant's rate, which a fast local stack can pass, and a throttled check
is the client's to retry, not a failure of the server (RetryAfterTransport).

Usage: conformance.py BASE_URL TOKEN
"""
import sys
import time

from httpx2 import BaseTransport, Client, HTTPTransport, Request, Response
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

# check title -> why the tester may skip it against this server
EXPECTED_SKIPS: dict[str, str] = {}


def is_sticky_active(result) -> bool:
    """PATCH `remove` of a User's `active` keeps its value, by design: a deprovisioned user must
    never be reactivated by a request that does not assert `active: true` (docs/ARCHITECTURE.md,
    "Deprovisioning is sticky"). The tester expects the attribute gone; it finds the value it
    set. Only that exact outcome is accepted: the check, the User resource type, the `active`
    path, and the value kept unchanged."""
    data = result.data or {}
    return (
        result.title == "check_remove_attribute"
        and result.status == Status.ERROR
        and result.resource_type == "User"
        and str(data.get("urn")) == "active"
        and "modify_actual" in data
        and data.get("modify_actual") == data.get("initial_value")
        and isinstance(data.get("initial_value"), bool)
    )


# How many times a request is sent again after a 429 or 503 with Retry-After, and the longest
# Retry-After waited out (the same bounds as the Rust integration tests' client).
MAX_RETRIES = 10
MAX_RETRY_AFTER_SECONDS = 60


def retry_after(response: Response) -> int | None:
    """Seconds to wait before sending again, for a 429 or 503 carrying Retry-After in seconds."""
    if response.status_code not in (429, 503):
        return None
    value = response.headers.get("Retry-After", "").strip()
    if not value.isdigit() or int(value) > MAX_RETRY_AFTER_SECONDS:
        return None
    return int(value)


class RetryAfterTransport(BaseTransport):
    """Sends a request again after a 429 or 503 with Retry-After, waiting that many seconds,
    up to MAX_RETRIES times; any other answer (and the last one) goes to the caller."""

    def __init__(self, inner: BaseTransport, retries: int = MAX_RETRIES) -> None:
        self.inner = inner
        self.retries = retries

    def handle_request(self, request: Request) -> Response:
        request.read()  # the body, in memory, can be sent again
        for attempt in range(self.retries + 1):
            response = self.inner.handle_request(request)
            wait = retry_after(response)
            if wait is None or attempt == self.retries:
                return response
            response.read()
            response.close()
            print(f"{request.method} {request.url.path}: {response.status_code}, retrying in {wait}s")
            time.sleep(wait)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.inner.close()


def main() -> int:
    base_url, token = sys.argv[1], sys.argv[2]
    http = Client(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
        transport=RetryAfterTransport(HTTPTransport()),
    )
    results = check_server(SyncSCIMClient(http))
    passed = failed = skipped = deviations = 0
    for result in results:
        title = result.title
        if result.status == Status.SUCCESS:
            passed += 1
            continue
        if result.status == Status.SKIPPED and title in EXPECTED_SKIPS:
            skipped += 1
            print(f"SKIPPED {title}: {EXPECTED_SKIPS[title]}")
            continue
        if is_sticky_active(result):
            deviations += 1
            print(f"DEVIATION {title}: `remove active` keeps active={result.data['initial_value']} (sticky deprovisioning)")
            continue
        failed += 1
        print(f"{result.status.name} {title}: {result.reason}")
        if result.data:
            print(f"  {result.data}")
    print(
        f"scim2-tester: {passed} passed, {failed} failed, {skipped} skipped, "
        f"{deviations} deliberate deviation(s)"
    )
    if deviations > 1:
        print("more than the one deliberate deviation", file=sys.stderr)
        return 1
    if passed == 0:
        print("scim2-tester ran no check", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
