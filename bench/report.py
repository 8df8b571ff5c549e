"""Builds the results table from the BENCH lines that bench/run.sh saved.

Usage: python3 bench/report.py RESULTS_DIR CORES
"""

import re
import sys
from pathlib import Path

out = Path(sys.argv[1])
cores = int(sys.argv[2])


def load(name):
    vals = {}
    path = out / f"{name}.txt"
    if not path.exists():
        return vals
    for line in path.read_text().splitlines():
        for key, value in re.findall(r"(\w+)=(\S+)", line):
            try:
                vals[key] = float(value)
            except ValueError:
                vals[key] = value
    return vals


def ms(us):
    return us / 1000.0


rows = []  # (metric, keyhold, fastapi, ratio text)


def fmt(v, unit):
    if v is None:
        return "n/a"
    if unit == "ms":
        return f"{v:.2f} ms" if v < 100 else f"{v:.0f} ms"
    if unit == "/s":
        return f"{v:,.0f}/s" if v >= 100 else f"{v:.1f}/s"
    if unit == "MiB":
        return f"{v:.1f} MiB"
    if unit == "n":
        return f"{v:,.0f}"
    return str(v)


def row(metric, k, f, unit, higher_better):
    ratio = ""
    if k and f:
        r = k / f if higher_better else f / k
        ratio = f"{r:.1f}x" if r >= 1 else f"{r:.2f}x"
    rows.append((metric, fmt(k, unit), fmt(f, unit), ratio))


def ok_rate(d, code):
    return d.get(f"s{code}", 0) / d["secs"] if d.get("secs") else None


server = {}
for side in ("keyhold", "fastapi"):
    server[side] = {
        "me": load(f"me-{side}"),
        "login1": load(f"login1-{side}"),
        "login": load(f"login-{side}"),
        "storm_login": load(f"storm-login-{side}"),
        "storm_me": load(f"storm-me-{side}"),
        "register": load(f"register-{side}"),
        "mem": load(f"mem-{side}"),
    }
K, F = server["keyhold"], server["fastapi"]


def rounds(name):
    """Every BENCH line of a file (one per round)."""
    path = out / f"{name}.txt"
    if not path.exists():
        return []
    return [{k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)}
            for line in path.read_text().splitlines() if line.startswith("BENCH")]


def median(values):
    values = sorted(values)
    n = len(values)
    return None if n == 0 else (values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2)


# Phase 1: wrk -t1 -c64, no script; ceiling and Keyhold alternate, round by round.
me1 = {"keyhold": rounds("me1-keyhold"), "ceiling": rounds("me1-ceiling"), "fastapi": rounds("me1-fastapi")}
med1 = {side: {k: median([r[k] for r in rs]) for k in ("rps", "p50_us", "p99_us")} if rs else {}
        for side, rs in me1.items()}
K1, F1, C1 = med1["keyhold"], med1["fastapi"], med1["ceiling"]
if K1:
    row("users/me requests/s (wrk -t1 -c64, median of rounds)", K1["rps"], F1.get("rps"), "/s", True)
    row("users/me p50", ms(K1["p50_us"]), ms(F1["p50_us"]) if F1 else None, "ms", False)
    row("users/me p99", ms(K1["p99_us"]), ms(F1["p99_us"]) if F1 else None, "ms", False)
row("users/me requests/s (wrk -t2 -c64, Lua script)", K["me"].get("rps"), F["me"].get("rps"), "/s", True)
row("users/me p50 / p99 (wrk -t2, Lua)", ms(K["me"]["p50_us"]), ms(F["me"]["p50_us"]), "ms", False)
rows[-1] = ("users/me p50 / p99 (wrk -t2, Lua)",
            *(f"{ms(d['me']['p50_us']):.2f} / {ms(d['me']['p99_us']):.2f} ms" for d in (K, F)), "")
row("users/me non-2xx", K["me"].get("non2xx"), F["me"].get("non2xx"), "n", False)
row("login, 1 at a time: time per login", ms(K["login1"]["mean_us"]), ms(F["login1"]["mean_us"]), "ms", False)
theo = {s: cores / (server[s]["login1"]["mean_us"] / 1e6) for s in server}
row(f"login theoretical max ({cores} cores / time per login)", theo["keyhold"], theo["fastapi"], "/s", True)
row("logins/s (8 conn, 200s only)", ok_rate(K["login"], 200), ok_rate(F["login"], 200), "/s", True)
pct = {s: 100 * ok_rate(server[s]["login"], 200) / theo[s] for s in server}
rows.append(("logins/s as % of theoretical max", f"{pct['keyhold']:.0f}%", f"{pct['fastapi']:.0f}%", ""))
row("login p99 (8 conn)", ms(K["login"]["p99_us"]), ms(F["login"]["p99_us"]), "ms", False)
row("login 503 (shed) / other non-200", None, None, "n", False)
rows[-1] = ("login 503 (shed) / other non-200",
            *(f"{int(server[s]['login'].get('s503', 0))} / "
              f"{int(server[s]['login'].get('requests', 0) - server[s]['login'].get('s200', 0) - server[s]['login'].get('s503', 0))}"
              for s in ("keyhold", "fastapi")), "")
row("storm: logins/s (8 conn)", ok_rate(K["storm_login"], 200), ok_rate(F["storm_login"], 200), "/s", True)
row("storm: users/me p50", ms(K["storm_me"]["p50_us"]), ms(F["storm_me"]["p50_us"]), "ms", False)
row("storm: users/me p99", ms(K["storm_me"]["p99_us"]), ms(F["storm_me"]["p99_us"]), "ms", False)
row("storm: users/me requests/s (4 conn, 10 ms pause)", K["storm_me"].get("rps"), F["storm_me"].get("rps"), "/s", True)
row("register accounts/s (8 conn, 201s only)", ok_rate(K["register"], 201), ok_rate(F["register"], 201), "/s", True)
row("register p99", ms(K["register"]["p99_us"]), ms(F["register"]["p99_us"]), "ms", False)
rows.append(("register 503 (shed) / other non-201",
             *(f"{int(server[s]['register'].get('s503', 0))} / "
               f"{int(server[s]['register'].get('requests', 0) - server[s]['register'].get('s201', 0) - server[s]['register'].get('s503', 0))}"
               for s in ("keyhold", "fastapi")), ""))
row("server RSS idle", K["mem"]["idle_rss_kib"] / 1024, F["mem"]["idle_rss_kib"] / 1024, "MiB", False)
for phase, label in (("me", "users/me"), ("login", "login"), ("storm", "login storm")):
    key = f"hwm_after_{phase}_kib"
    if key in K["mem"] and key in F["mem"]:
        row(f"server RSS high-water after {label} phase", K["mem"][key] / 1024, F["mem"][key] / 1024, "MiB", False)
row("server RSS peak (VmHWM, whole run)", K["mem"]["peak_rss_kib"] / 1024, F["mem"]["peak_rss_kib"] / 1024, "MiB", False)

client = load("client")
crow = []
if client:
    for part, label in (("wasm", client.get("wasm_file", "wasm")), ("js", "keyhold.js")):
        crow.append((label, *(f"{client[f'{part}_{k}'] / 1000:.1f} KB" for k in ("raw", "gzip", "brotli"))))
    total_br = client["wasm_brotli"] + client["js_brotli"]
    crow.append(("WASM + JS", f"{(client['wasm_raw'] + client['js_raw']) / 1000:.1f} KB",
                 f"{(client['wasm_gzip'] + client['js_gzip']) / 1000:.1f} KB", f"{total_br / 1000:.1f} KB"))


def table(header, data):
    widths = [max(len(str(r[i])) for r in [header, *data]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in data:
        print(line(r))


table(("Metric", "Keyhold", "FastAPI ref", "Keyhold advantage"), rows)
if crow:
    print()
    table(("Client (Keyhold)", "raw", "gzip -9", "brotli -q 11"), crow)
    if "hydrate_median_ms" in client:
        print(f"\nNavigation to hydrated /login, headless Chromium, cold cache, loopback: median "
              f"{client['hydrate_median_ms']:.0f} ms (min {client['hydrate_min_ms']:.0f}, max {client['hydrate_max_ms']:.0f}; "
              f"DOMContentLoaded median {client['dcl_median_ms']:.0f} ms; {int(client['runs'])} runs)")

ratios = [k["rps"] / c["rps"] for k, c in zip(me1["keyhold"], me1["ceiling"]) if c.get("rps")]
ceiling_ratio = median(ratios)
if ceiling_ratio is not None:
    print(f"\nusers/me against the machine's ceiling (examples/ceiling.rs: a bare axum handler, "
          f"fixed body, no token, no database, no middleware), wrk -t1 -c64, no script, "
          f"{len(ratios)} rounds alternating:")
    table(("Round", "ceiling req/s", "ceiling p99", "Keyhold req/s", "Keyhold p99", "Keyhold / ceiling"),
          [(i + 1, fmt(c["rps"], "/s"), fmt(ms(c["p99_us"]), "ms"), fmt(k["rps"], "/s"),
            fmt(ms(k["p99_us"]), "ms"), f"{k['rps'] / c['rps']:.2f}")
           for i, (k, c) in enumerate(zip(me1["keyhold"], me1["ceiling"]))])
    print(f"Median: Keyhold {K1['rps']:,.0f}/s (p99 {ms(K1['p99_us']):.2f} ms) = {ceiling_ratio:.2f} of the "
          f"ceiling ({C1['rps']:,.0f}/s, p99 {ms(C1['p99_us']):.2f} ms)"
          + (f" and {K1['rps'] / F1['rps']:.1f}x the reference ({F1['rps']:,.0f}/s)." if F1 else "."))

ceiling = load("me-ceiling")
if ceiling.get("rps"):
    need = 20 * F["me"]["rps"]
    print(f"\nThe same with wrk -t2 and the Lua script (the earlier measurement): ceiling "
          f"{ceiling['rps']:,.0f}/s, "
          f"p50 {ms(ceiling['p50_us']):.2f} ms, p99 {ms(ceiling['p99_us']):.2f} ms.")
    print(f"Keyhold reaches {100 * K['me']['rps'] / ceiling['rps']:.0f}% of it. 20x the reference "
          f"would be {need:,.0f}/s, {need / ceiling['rps']:.2f}x the ceiling.")

# What verification costs: users/me with tokens signed by each algorithm.
algs = [(alg, load(f"me-alg-{alg}")) for alg in ("HS256", "EdDSA", "ES256")]
algs = [(alg, d) for alg, d in algs if d.get("rps")]
if algs:
    base = algs[0][1]["rps"] if algs[0][0] == "HS256" else None
    print()
    table(
        ("users/me, tokens signed (64 conn)", "requests/s", "p50", "p99", "vs HS256"),
        [
            (alg, fmt(d["rps"], "/s"), fmt(ms(d["p50_us"]), "ms"), fmt(ms(d["p99_us"]), "ms"),
             f"{100 * d['rps'] / base:.0f}%" if base else "")
            for alg, d in algs
        ],
    )

# Targets
print("\nTargets:")
me_ratio = K["me"]["rps"] / F["me"]["rps"]
p99 = ms(K["me"]["p99_us"])
checks = [
    (f"users/me throughput >= 20x reference ({me_ratio:.1f}x) with p99 < 2 ms ({p99:.2f} ms)",
     me_ratio >= 20 and p99 < 2),
]
if ceiling_ratio is not None:
    checks.append((f"users/me >= 0.6 of the ceiling, wrk -t1 ({ceiling_ratio:.2f}), with p99 <= 1.5 ms "
                   f"({ms(K1['p99_us']):.2f} ms)", ceiling_ratio >= 0.6 and ms(K1["p99_us"]) <= 1.5))
checks += [
    (f"logins/s within 90% of cores/argon2 time ({pct['keyhold']:.0f}%)", pct["keyhold"] >= 90),
    (f"users/me p99 < 10 ms during the login storm ({ms(K['storm_me']['p99_us']):.2f} ms)",
     ms(K["storm_me"]["p99_us"]) < 10),
]
if client:
    checks.append((f"WASM + JS <= 200 KB brotli ({total_br / 1000:.1f} KB)", total_br <= 200_000))
for text, ok in checks:
    print(f"  [{'MET' if ok else 'MISSED':<6}] {text}")
