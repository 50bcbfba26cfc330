#!/usr/bin/env python3
"""Mutation fuzzing of whole captures: netpac must never crash on them.

    hostile/mutate.py TRACES_DIR [--count N] [--seed S] [--netpac PATH] [--keep DIR]

Each mutant is one pcap of TRACES_DIR (classic pcap files; pcapng and
compressed files are skipped) with random damage inside its packets: bytes
flipped, overwritten with 0x00/0xff, or a packet cut short. Records stay
well-formed, so the damage reaches the decoders and analyzers rather than the
file reader. A run fails when netpac dies of a signal or panics (exit status
101), or when a log it wrote lacks its #close footer. Failing mutants are kept
in --keep DIR to reproduce them.
"""
import argparse
import os
import random
import struct
import subprocess
import sys
import tempfile


def packets(data):
    """(header offset, captured length) of each record of a classic pcap."""
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        return None
    out, at = [], 24
    while at + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[at + 8:at + 12])[0]
        if at + 16 + incl > len(data):
            break
        out.append((at, incl))
        at += 16 + incl
    return endian, out


def mutate(data, rng):
    parsed = packets(data)
    if not parsed or not parsed[1]:
        return None
    endian, recs = parsed
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        at, incl = rng.choice(recs)
        if incl == 0:
            continue
        body = at + 16
        kind = rng.random()
        if kind < 0.6:
            for _ in range(rng.randint(1, 4)):
                buf[body + rng.randrange(incl)] ^= 1 << rng.randrange(8)
        elif kind < 0.9:
            start = body + rng.randrange(incl)
            n = min(rng.randint(1, 8), body + incl - start)
            buf[start:start + n] = bytes([rng.choice((0, 0xff))]) * n
        else:
            # Cut the packet short: the capture length shrinks, the bytes stay
            # as padding the reader skips with the record.
            cut = rng.randrange(incl)
            struct.pack_into(endian + "I", buf, at + 8, cut)
            buf[body + cut:body + incl] = b""
            return bytes(buf)  # offsets changed; stop here
    return bytes(buf)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("traces")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--netpac", default="target/release/netpac")
    ap.add_argument("--keep", default="mutants-failed")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    traces = sorted(
        os.path.join(d, f)
        for d, _, fs in os.walk(args.traces)
        for f in fs
        if f.endswith((".pcap", ".trace", ".dump"))
    )
    originals = []
    for t in traces:
        with open(t, "rb") as fh:
            data = fh.read()
        if packets(data):
            originals.append((t, data))
    if not originals:
        sys.exit("no classic pcap files under " + args.traces)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.count):
            name, data = rng.choice(originals)
            mutant = mutate(data, rng)
            if mutant is None:
                continue
            pcap = os.path.join(tmp, "m.pcap")
            out = os.path.join(tmp, "out")
            with open(pcap, "wb") as fh:
                fh.write(mutant)
            subprocess.run(["rm", "-rf", out])
            p = subprocess.run(
                [args.netpac, "-r", pcap, "-o", out, "--no-progress"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=120,
            )
            unclosed = [
                f for f in os.listdir(out) if f.endswith(".log")
                and not open(os.path.join(out, f), errors="replace").read().rstrip().splitlines()[-1].startswith("#close")
            ] if os.path.isdir(out) else []
            if p.returncode < 0 or p.returncode == 101 or unclosed:
                failures += 1
                os.makedirs(args.keep, exist_ok=True)
                kept = os.path.join(args.keep, f"mutant-{args.seed}-{i}.pcap")
                with open(kept, "wb") as fh:
                    fh.write(mutant)
                print(f"FAIL {kept} (from {name}): exit {p.returncode} {unclosed}")
                print(p.stderr.decode(errors="replace")[-400:])
    print(f"{args.count} mutants of {len(originals)} captures, {failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
