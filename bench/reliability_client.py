"""Helper of bench/reliability.sh (standard library only).

register BASE ACKED_FILE PREFIX THREADS
    Registers unique accounts as fast as THREADS connections allow and appends each
    username the server acknowledged with 201 to ACKED_FILE (flushed at once). Runs
    until the server goes away (several refused connections in a row) or 120 s pass.
verify BASE ACKED_FILE THREADS
    Logs every acknowledged account in; prints "N acknowledged, N present".
"""

import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

PASSWORD = "violet-Harbor-7-quantum-Sprocket"


def conn(base):
    u = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=15)


def register(base, acked_path, prefix, threads):
    lock = threading.Lock()
    out = open(acked_path, "a", buffering=1)
    deadline = time.monotonic() + 120
    stats = {"ok": 0, "other": 0, "errors": 0}

    def worker(tid):
        c = conn(base)
        n, failures = 0, 0
        while time.monotonic() < deadline and failures < 20:
            n += 1
            name = f"{prefix}{tid}x{n}"
            body = json.dumps({"username": name, "email": f"{name}@example.com", "password": PASSWORD})
            try:
                c.request("POST", "/api/register", body, {"Content-Type": "application/json"})
                r = c.getresponse()
                r.read()
            except OSError:
                failures += 1
                stats["errors"] += 1
                c.close()
                c = conn(base)
                time.sleep(0.05)
                continue
            failures = 0
            with lock:
                if r.status == 201:
                    out.write(name + "\n")
                    stats["ok"] += 1
                else:
                    stats["other"] += 1

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(f"client: {stats['ok']} acknowledged (201), {stats['other']} other statuses, "
          f"{stats['errors']} connection errors", file=sys.stderr)


def verify(base, acked_path, threads):
    names = [n for n in open(acked_path).read().split("\n") if n]
    present, missing = [], []
    lock = threading.Lock()
    it = iter(names)

    def worker():
        c = conn(base)
        while True:
            with lock:
                name = next(it, None)
            if name is None:
                return
            form = urllib.parse.urlencode({"username": name, "password": PASSWORD})
            for _ in range(20):  # retry load shedding (503) only
                c.request("POST", "/api/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
                r = c.getresponse()
                r.read()
                if r.status != 503:
                    break
                time.sleep(0.2)
            with lock:
                (present if r.status == 200 else missing).append((name, r.status))

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for name, status in missing[:20]:
        print(f"missing: {name} (login answered {status})", file=sys.stderr)
    print(f"{len(names)} acknowledged, {len(present)} present")
    return 0 if len(present) == len(names) else 1


if __name__ == "__main__":
    if sys.argv[1] == "register":
        register(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        sys.exit(verify(sys.argv[2], sys.argv[3], int(sys.argv[4])))
