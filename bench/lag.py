#!/usr/bin/env python3
"""bench/lag.py - the revocation lag between two keyhold nodes on one store:
for each of N personal access tokens, use it on node B (so that B caches it),
revoke it on node A, then ask B again as fast as it answers until it says
403. The lag is the time from A's 204 to B's first 403. Validate requests
run against both nodes meanwhile (the load a real fleet is under).

usage: lag.py A_PORT B_PORT API_KEY APP_KEY N   -> prints "p50 X ms, p99 Y ms, max Z ms (N revocations)"
"""
import datetime
import http.client
import json
import sys
import threading
import time

a_port, b_port, api_key, app_key, n = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
admin = {"DD-API-KEY": api_key, "DD-APPLICATION-KEY": app_key, "Content-Type": "application/json"}


def request(conn, method, path, headers, body=None):
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    return r.status, data


def load(port, stop):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    while not stop.is_set():
        request(conn, "GET", "/api/v1/validate", {"DD-API-KEY": api_key})


a = http.client.HTTPConnection("127.0.0.1", a_port)
b = http.client.HTTPConnection("127.0.0.1", b_port)
expires = (datetime.datetime.utcnow() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
tokens = []
for i in range(n):
    body = json.dumps({"data": {"type": "personal_access_tokens",
                                "attributes": {"name": f"lag {i}", "scopes": ["api_keys_read"], "expires_at": expires}}})
    status, data = request(a, "POST", "/api/v2/personal_access_tokens", admin, body)
    assert status == 201, (status, data)
    d = json.loads(data)["data"]
    tokens.append((d["id"], d["attributes"]["key"]))

stop = threading.Event()
loaders = [threading.Thread(target=load, args=(p, stop)) for p in (a_port, b_port)]
for t in loaders:
    t.start()
lags = []
for token_id, key in tokens:
    bearer = {"Authorization": f"Bearer {key}"}
    status, _ = request(b, "GET", "/api/v2/api_keys", bearer)
    assert status == 200, status
    status, _ = request(a, "DELETE", f"/api/v2/personal_access_tokens/{token_id}", admin)
    assert status == 204, status
    revoked = time.perf_counter()
    while True:
        status, _ = request(b, "GET", "/api/v2/api_keys", bearer)
        if status == 403:
            lags.append((time.perf_counter() - revoked) * 1000)
            break
        assert status == 200, status
        if time.perf_counter() - revoked > 10:
            sys.exit("a revoked token was still accepted on the other node after 10 s")
stop.set()
for t in loaders:
    t.join()
lags.sort()
pick = lambda p: lags[min(len(lags) - 1, int(len(lags) * p))]
print(f"p50 {pick(0.5):.2f} ms, p99 {pick(0.99):.2f} ms, max {lags[-1]:.2f} ms ({len(lags)} revocations)")
