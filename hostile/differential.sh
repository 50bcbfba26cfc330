#!/usr/bin/env bash
# Differential run: each hostile capture through netpac and through a Zeek
# installation, and the weirds both write, side by side (name: netpac's count /
# Zeek's count). Sizes are small enough for Zeek to finish in seconds.
#
#   ZEEK=/path/to/zeek hostile/differential.sh
#
# Zeek runs with its default scripts (`zeek -C -r`), netpac with its defaults
# (`netpac -C -r`). A weird only one of them writes is marked `<<`.
set -euo pipefail
cd "$(dirname "$0")/.."
zeek="${ZEEK:?set ZEEK to a zeek binary (or a wrapper script)}"
work="${HOSTILE_DIR:-$(mktemp -d)}"
mkdir -p "$work"
cargo build --release --quiet -p netpac -p netpac-hostile
gen=target/release/netpac-hostile

# kind count span-seconds
cases="syn-flood 20000 1
reassembly-holes 20000 1
reassembly-holes-reverse 20000 1
fragment-flood 20000 1
dns-compression-bomb 4000 1
http-pipeline-flood 5000 1
buffered-holes 200 1
smtp-pipeline-flood 5000 1
smtp-mime-nesting 200 1
tunnel-flood 20000 1"

weird_counts() {
    # name<TAB>count for one weird.log (none: nothing).
    [ -f "$1" ] || return 0
    grep -v '^#' "$1" | cut -f7 | sort | uniq -c | awk '{print $2 "\t" $1}'
}

while read -r kind count span; do
    pcap="$work/$kind.pcap"
    "$gen" "$kind" --count "$count" --span "$span" --out "$pcap"
    rm -rf "$work/netpac-$kind" "$work/zeek-$kind"
    mkdir -p "$work/netpac-$kind" "$work/zeek-$kind"
    target/release/netpac -C -r "$pcap" -o "$work/netpac-$kind" --no-progress 2>/dev/null
    (cd "$work/zeek-$kind" && "$zeek" -C -r "$pcap" >/dev/null 2>&1) || echo "zeek failed on $kind" >&2
    echo "== $kind ($count, ${span}s)"
    join -t $'\t' -a1 -a2 -e0 -o 0,1.2,2.2 \
        <(weird_counts "$work/netpac-$kind/weird.log" | sort) \
        <(weird_counts "$work/zeek-$kind/weird.log" | sort) |
        awk -F'\t' '{ mark = ($2 == 0 || $3 == 0) ? "  <<" : ""; printf "   %-50s %8s / %-8s%s\n", $1, $2, $3, mark }'
done <<< "$cases"
