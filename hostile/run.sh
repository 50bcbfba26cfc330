#!/usr/bin/env bash
# Robustness suite: writes each hostile capture and reports what netpac does
# with it: exit status, wall time, peak memory, packets/s and the weirds that
# show which limits were hit.
#
#   hostile/run.sh            sizes that take seconds
#   hostile/run.sh large      the sizes of the robustness issue (minutes, GBs)
#   MEMLIMIT_KB=2097152 hostile/run.sh large   also cap netpac's address space
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-small}"
work="${HOSTILE_DIR:-$(mktemp -d)}"
cargo build --release --quiet -p netpac -p netpac-hostile
gen=target/release/netpac-hostile

# kind count span-seconds
if [ "$size" = large ]; then
    cases="syn-flood 10000000 10
syn-flood 10000000 3600
reassembly-holes 1000000 10
reassembly-holes-reverse 1000000 10
fragment-flood 5000000 10
dns-compression-bomb 4000 1
http-pipeline-flood 1000000 10
buffered-holes 50000 10
smtp-pipeline-flood 1000000 10
smtp-mime-nesting 100000 10
tunnel-flood 5000000 10"
else
    cases="syn-flood 200000 1
syn-flood 200000 600
reassembly-holes 100000 1
reassembly-holes-reverse 100000 1
fragment-flood 200000 1
dns-compression-bomb 4000 1
http-pipeline-flood 50000 1
buffered-holes 2000 1
smtp-pipeline-flood 50000 1
smtp-mime-nesting 1000 1
tunnel-flood 300000 1"
fi

printf '%-26s %10s %7s %9s %10s %12s  %s\n' kind count span exit seconds peak_MiB "weirds (count)"
while read -r kind count span; do
    pcap="$work/$kind-$count-$span.pcap"
    out="$work/$kind-$count-$span.out"
    rm -rf "$out" && mkdir -p "$out"
    "$gen" "$kind" --count "$count" --span "$span" --out "$pcap"
    python3 - "$pcap" "$out" "$kind" "$count" "$span" <<'PY'
import os, resource, subprocess, sys, time, collections
pcap, out, kind, count, span = sys.argv[1:6]
limit = os.environ.get("MEMLIMIT_KB")
def cap():
    if limit:
        n = int(limit) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (n, n))
t = time.monotonic()
p = subprocess.run(["target/release/netpac", "-r", pcap, "-C", "-o", out, "--no-progress"],
                   preexec_fn=cap, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
secs = time.monotonic() - t
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
weirds = collections.Counter()
try:
    for line in open(os.path.join(out, "weird.log"), errors="replace"):
        if not line.startswith("#"):
            weirds[line.split("\t")[6]] += 1
except FileNotFoundError:
    pass
closed = all(open(os.path.join(out, f), errors="replace").read().rstrip().splitlines()[-1].startswith("#close")
             for f in os.listdir(out) if f.endswith(".log"))
w = ", ".join(f"{k} ({v})" for k, v in weirds.most_common(4)) or "-"
print(f"{kind:26s} {count:>10s} {span:>7s} {p.returncode:>9d} {secs:10.2f} {peak:12.1f}  {w}{'' if closed else '  LOGS NOT CLOSED'}")
if p.returncode != 0:
    sys.stderr.write(p.stderr.decode(errors="replace")[-500:])
PY
done <<< "$cases"
