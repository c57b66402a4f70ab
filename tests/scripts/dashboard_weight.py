#!/usr/bin/env python3
"""The affiliate dashboard's page weight and time with 10,000 commissions.

Starts the release server on a fresh SQLite database in a temporary directory,
records COMMISSIONS sales for one affiliate (one commission each) through the
API, logs the affiliate in to the portal and fetches /portal and the portal's
commissions page (50 a page) ROUNDS times each, then the console's commissions and
conversions pages (50 a page). Prints bytes and latencies.

    cargo xtask plugins && cargo build --release -p upline-host
    python3 tests/scripts/dashboard_weight.py [COMMISSIONS]

Standard library only.
"""

import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PORT = 18080
KEY = "dashboard-weight-key"
COMMISSIONS = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
ROUNDS = 20


def request(conn, method, path, body=None, headers=None, form=False):
    headers = dict(headers or {})
    if body is not None and form:
        body = urllib.parse.urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        body = json.dumps(body)
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def api(conn, method, path, body=None):
    status, _, data = request(conn, method, path, body, {"Authorization": f"Bearer {KEY}"})
    assert status in (200, 201), (status, data)
    return json.loads(data) if data else None


def timed(conn, path, headers):
    sizes, times = [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        status, _, data = request(conn, "GET", path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert status == 200, (status, data[:200])
        sizes.append(len(data))
    times.sort()
    return sizes[-1], statistics.median(times), times[int(len(times) * 0.95) - 1]


def measure(conn, login, email, pages):
    """Logs `email` in at `login`, then times each of `pages` and prints its weight and latency."""
    status, headers, _ = request(conn, "POST", login, {"email": email, "password": "a long password"}, form=True)
    assert status == 303, status
    cookie = headers["set-cookie"].split(";")[0]
    for page in pages:
        size, median, p95 = timed(conn, page, {"Cookie": cookie})
        print(f"GET {page}: {size} bytes, median {median:.1f} ms, p95 {p95:.1f} ms ({ROUNDS} rounds)")


def main():
    server = os.path.join(ROOT, "target", "release", "upline")
    package = os.path.join(ROOT, "target", "plugins", "packages", "multi-tier-0.2.0.wasm")
    with tempfile.TemporaryDirectory() as data:
        process = subprocess.Popen(
            [server, "serve", "--data-dir", data, "--listen", f"127.0.0.1:{PORT}", "--operator-key", KEY,
             "--install", package, "--rate-limit-exempt", "127.0.0.1/32"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", PORT)
                    request(conn, "GET", "/health")
                    break
                except OSError:
                    time.sleep(0.1)
            campaign = api(conn, "POST", "/api/v1/campaigns", {"name": "Shop", "currency": "EUR"})
            group = campaign["groups"][0]["id"]
            rates = {"commission-type": "sale", "tiers": [{"tier": 1, "rule": {"percent": "10"}}]}
            api(conn, "PUT", f"/api/v1/groups/{group}/rates", rates)
            api(conn, "PUT", f"/api/v1/campaigns/{campaign['id']}/plugins/multi-tier", {"enabled": True})
            affiliate = api(conn, "POST", "/api/v1/affiliates",
                            {"name": "Anna", "email": "anna@shop.example", "password": "a long password"})
            started = time.perf_counter()
            for i in range(COMMISSIONS):
                api(conn, "POST", "/api/v1/conversions",
                    {"campaign": campaign["id"], "affiliate": affiliate["id"], "order-id": f"o-{i}",
                     "total": "100.00"})
            print(f"{COMMISSIONS} sales recorded in {time.perf_counter() - started:.1f} s")
            measure(conn, "/portal/login", "anna@shop.example", ["/portal", "/portal/commissions"])
            api(conn, "POST", "/api/v1/operators", {"email": "ops@shop.example", "password": "a long password"})
            measure(conn, "/console/login", "ops@shop.example",
                    ["/console/commissions?status=approved", "/console/conversions"])
        finally:
            process.terminate()
            process.wait()


if __name__ == "__main__":
    main()
