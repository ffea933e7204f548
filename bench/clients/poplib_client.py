#!/usr/bin/env python3
"""poplib_client.py HOST PORT USER PASSWORD [--runs N] [--warmup N] [--max N] [--verify] [--json]

POP3 download benchmark client built on Python's standard poplib (what many scripts and
mail fetchers use): line-by-line reads, poplib's own un-stuffing. One session = connect,
greeting, USER/PASS, STAT, UIDL, RETR 1..N one at a time, QUIT; nothing is deleted.
--max 0 gives login + STAT + UIDL sessions. --verify hashes each message (SHA-256 of its
body with CRLF line ends) and reports a digest of the sorted hashes, to compare servers.
--json prints one JSON object per session. Exit status 1 on any protocol error.
Python 3 standard library only.
"""
import argparse
import hashlib
import json
import poplib
import statistics
import sys
import time


def session(args):
    t0 = time.perf_counter()
    pop = poplib.POP3(args.host, args.port, timeout=args.timeout)
    try:
        pop.user(args.user)
        pop.pass_(args.password)
        t1 = time.perf_counter()
        count, size = pop.stat()
        t2 = time.perf_counter()
        _resp, uidls, _octets = pop.uidl()
        t3 = time.perf_counter()
        if len(uidls) != count:
            raise poplib.error_proto("UIDL listed %d messages, STAT said %d" % (len(uidls), count))
        n = count if args.max is None else min(count, args.max)
        nbytes = 0
        hashes = []
        for msn in range(1, n + 1):
            _resp, lines, _octets = pop.retr(msn)
            nbytes += sum(map(len, lines)) + 2 * len(lines)
            if args.verify:
                hashes.append(hashlib.sha256(b"".join(line + b"\r\n" for line in lines)).hexdigest())
        t4 = time.perf_counter()
        pop.quit()
        t5 = time.perf_counter()
    finally:
        try:
            pop.close()
        except OSError:
            pass
    result = {
        "n": n,
        "bytes": nbytes,
        "count": count,
        "statSize": size,
        "loginMs": (t1 - t0) * 1e3,
        "statMs": (t2 - t1) * 1e3,
        "uidlMs": (t3 - t2) * 1e3,
        "retrS": t4 - t3,
        "totalS": t5 - t0,
    }
    if args.verify:
        result["digest"] = hashlib.sha256("\n".join(sorted(hashes)).encode()).hexdigest()
    return result


def main():
    ap = argparse.ArgumentParser(description="POP3 benchmark client (Python poplib)")
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("user")
    ap.add_argument("password")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--max", type=int)
    ap.add_argument("--verify", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()
    results = []
    try:
        for r in range(args.warmup + args.runs):
            res = session(args)
            kind = "warmup" if r < args.warmup else "run"
            if kind == "run":
                results.append(res)
            if args.json:
                print(json.dumps(dict(ok=True, kind=kind, client="poplib", **res)), flush=True)
            else:
                print("%s %d: %d msgs %.2f MB login %.1f ms stat %.1f ms uidl %.1f ms retr %.3f s total %.3f s"
                      " -> %.1f MB/s %.0f msgs/s" % (
                          kind, r + 1, res["n"], res["bytes"] / 1e6, res["loginMs"], res["statMs"], res["uidlMs"],
                          res["retrS"], res["totalS"], res["bytes"] / 1e6 / res["totalS"], res["n"] / res["totalS"]),
                      flush=True)
    except (poplib.error_proto, OSError, EOFError, ValueError) as e:
        msg = "%s: %s" % (type(e).__name__, e)
        print(json.dumps({"ok": False, "error": msg}) if args.json else "pop3 retr-all: ERROR " + msg, flush=True)
        return 1
    if not args.json and results:
        total = statistics.median(r["totalS"] for r in results)
        first = results[0]
        print("pop3 retr-all: %d msgs, %.2f MB, %.3f s, %.1f MB/s, %.0f msgs/s (median of %d runs, client=poplib)" % (
            first["n"], first["bytes"] / 1e6, total, first["bytes"] / 1e6 / total, first["n"] / total, len(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
