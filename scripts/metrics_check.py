"""Reads Keyhold's /metrics with prometheus_client's text-format parser before and after
making traffic, and checks that each metric moved with it (scripts/metrics.sh).

    metrics_check.py <app base URL> <metrics base URL>
"""
import http.cookies
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

APP, METRICS = sys.argv[1], sys.argv[2]
PASSWORD = "correct horse battery staple"
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def call(method, path, body=None, form=None, headers=None):
    headers = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(APP + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def scrape():
    """Every sample as {(name, sorted labels): value}."""
    with urllib.request.urlopen(METRICS + "/metrics") as response:
        check(response.headers.get_content_type() == "text/plain", "/metrics is Prometheus text")
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def refresh_cookie(headers):
    for line in headers.get_all("set-cookie") or []:
        cookie = http.cookies.SimpleCookie(line)
        if "__Host-keyhold-refresh" in cookie:
            return cookie["__Host-keyhold-refresh"].value
    return None


before = scrape()
build = [k for k in before if k[0] == "keyhold_build_info"]
check(len(build) == 1 and dict(build[0][1]).get("version"), "build info names the version")

status, _, page = call("GET", "/metrics")
check(b"keyhold_http_request_duration_seconds" not in page, "the app's own port serves no metrics")

name = "metered"
status, _, _ = call("POST", "/api/register", body={"username": name, "email": f"{name}@example.com", "password": PASSWORD})
check(status == 201, "registered")
tokens, cookie = [], None
for _ in range(2):
    status, headers, body = call("POST", "/api/login", form={"username": name, "password": PASSWORD})
    check(status == 200, "logged in")
    tokens.append(json.loads(body)["access_token"])
    cookie = refresh_cookie(headers)
statuses = [call("POST", "/api/login", form={"username": name, "password": "wrong " + PASSWORD})[0] for _ in range(6)]
check(statuses == [401] * 5 + [429], f"five refused log-ins, then throttled: {statuses}")
for _ in range(3):
    check(call("GET", "/api/users/me", headers={"authorization": "Bearer " + tokens[0]})[0] == 200, "users/me")
status, _, _ = call("POST", "/api/refresh", headers={"cookie": f"__Host-keyhold-refresh={cookie}", "origin": APP})
check(status == 200, "refreshed (the cookie rotates)")
check(call("GET", "/no/such/page/" + "x" * 40)[0] == 404, "an unknown page")

time.sleep(6)  # the gauges are sampled every 5 s
after = scrape()


def moved(name, expected, **labels):
    delta = value(after, name, **labels) - value(before, name, **labels)
    check(delta == expected, f"{name}{labels or ''} moved by {delta:g} (expected {expected})")


moved("keyhold_logins_total", 2, outcome="ok")
moved("keyhold_logins_total", 5, outcome="invalid")
moved("keyhold_logins_total", 1, outcome="throttled")
moved("keyhold_refresh_rotations_total", 1)
moved("keyhold_http_request_duration_seconds_count", 3, route="/api/users/me", method="GET", status="2xx")
moved("keyhold_http_request_duration_seconds_count", 6, route="/api/login", method="POST", status="4xx")
moved("keyhold_http_request_duration_seconds_count", 2, route="/api/login", method="POST", status="2xx")
routes = {dict(k[1]).get("route") for k in after if k[0] == "keyhold_http_request_duration_seconds_count"}
check(not any(r and "xxxx" in r for r in routes), f"an unknown path is no new series: {sorted(r for r in routes if r)}")
slowest = value(after, "keyhold_http_request_duration_seconds_bucket", route="/api/users/me", method="GET", status="2xx", le="+Inf")
check(slowest >= 3, "the latency histogram has its +Inf bucket")
check(value(after, "keyhold_sessions_active") >= 2, "live sessions sampled")
check(value(after, "keyhold_db_connections", state="idle") + value(after, "keyhold_db_connections", state="in_use") >= 1, "the database pool is sampled")
check(("keyhold_password_hashes_in_flight", ()) in after, "hashes in flight sampled")

if failures:
    print(f"{len(failures)} metric checks failed")
    sys.exit(1)
print("every metric moved with the traffic")
