#!/usr/bin/env bash
# Times netpac on a capture against the floor (benches/floor.rs: read, slice
# with etherparse, count 5-tuples) and against itself on more threads, in one
# run, alternating the commands so that a noisy machine hits all alike.
#
#   bench/compare.sh CAPTURE [THREADS] [ROUNDS]
#
# Any Ethernet capture will do; a large realistic one can be made from Zeek's
# test traces with a trace mixer, or from the hostile generators
# (hostile/run.sh). Prints, per command, the median wall time, peak RSS and
# packets/s, then the ratios to the floor and to one thread.
set -euo pipefail
cd "$(dirname "$0")/.."
capture="${1:?usage: bench/compare.sh CAPTURE [THREADS] [ROUNDS]}"
threads="${2:-$(nproc)}"
rounds="${3:-3}"
cargo build --release --quiet
cargo bench --bench floor --no-run --quiet 2>/dev/null
floor=$(ls -t target/release/deps/floor-* | grep -v '\.d$' | head -n 1)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

declare -A cmd=(
    [floor]="$floor $capture"
    [netpac-1]="target/release/netpac -C -r $capture -o $out/1 --threads 1 --no-progress"
    [netpac-$threads]="target/release/netpac -C -r $capture -o $out/$threads --threads $threads --no-progress"
)
order=(floor netpac-1 "netpac-$threads")
declare -A times rss
for ((r = 0; r < rounds; r++)); do
    for name in "${order[@]}"; do
        mkdir -p "$out/1" "$out/$threads"
        line=$(/usr/bin/time -f "%e %M" ${cmd[$name]} 2>&1 >/dev/null | tail -n 1)
        times[$name]+="${line%% *} "
        rss[$name]="${line##* }"
    done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
packets=$(target/release/netpac -C -r "$capture" -o "$out/1" --threads 1 --no-progress 2>&1 | sed -n 's/^netpac: \([0-9]*\) packets.*/\1/p')
floor_t=$(echo "${times[floor]}" | median)
one_t=$(echo "${times[netpac-1]}" | median)
printf '%-12s %9s %10s %12s %9s %9s\n' command "wall (s)" "RSS (MiB)" "packets/s" "÷ floor" "÷ 1 thr"
for name in "${order[@]}"; do
    t=$(echo "${times[$name]}" | median)
    awk -v n="$name" -v t="$t" -v m="${rss[$name]}" -v p="$packets" -v f="$floor_t" -v o="$one_t" \
        'BEGIN { printf "%-12s %9.2f %10.1f %12.0f %9.2f %9.2f\n", n, t, m / 1024, p / t, t / f, t / o }'
done
if diff -r -q -I '^#open' -I '^#close' "$out/1" "$out/$threads" >/dev/null; then
    echo "logs of 1 and $threads threads: identical (apart from #open/#close)"
else
    echo "logs of 1 and $threads threads differ:"
    diff -r -q -I '^#open' -I '^#close' "$out/1" "$out/$threads" || true
fi
