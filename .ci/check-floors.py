#!/usr/bin/env python3
"""Fails when a conformance report falls below the floors in .ci/floors.json."""
import json
import sys

floors = json.load(open(sys.argv[1]))
report = json.load(open(sys.argv[2]))["summary"]
failed = False
for log, want in floors.items():
    if log.startswith("_"):
        continue
    for scope, key in (("headline", "headline"), ("all", "all")):
        if key not in want:
            continue
        got = report[scope].get(log + ".log", {}).get("exact_pct", 0.0)
        ok = got + 1e-9 >= want[key]
        print("floor %s.log %-8s %6.2f%% (floor %.2f%%) %s" % (log, scope, got, want[key], "ok" if ok else "BELOW FLOOR"))
        failed |= not ok
    if "service" in want:
        svc = report["headline"].get(log + ".log", {}).get("service", {})
        total, equal = svc.get("compared", 0), svc.get("equal", 0)
        got = 100.0 * equal / total if total else 0.0
        ok = got + 1e-9 >= want["service"]
        print("floor %s.log service  %6.2f%% (floor %.2f%%) %s" % (log, got, want["service"], "ok" if ok else "BELOW FLOOR"))
        failed |= not ok
sys.exit(1 if failed else 0)
