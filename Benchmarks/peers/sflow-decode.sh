#!/usr/bin/env bash
# Whole-process decode of one large capture, side by side: tusk sflow decode (JSON to /dev/null),
# sfacctd (pmacct) reading the same file with pcap_savefile, and tshark -V. Medians of 3 runs.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TUSK=${TUSK:-$ROOT/.build/release/tusk}
DATAGRAMS=${DATAGRAMS:-100000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pcap=$work/bench.pcap
"$TUSK" sflow generate --out "$pcap" --datagrams "$DATAGRAMS" --flows 100000 --agents 8 2>/dev/null
samples=$("$TUSK" sflow stats --pcap "$pcap" --format json | python3 -c 'import json,sys; t=json.load(sys.stdin)["totals"]; print(t["flowSamples"]+t["counterSamples"])')
echo "capture: $DATAGRAMS datagrams, $samples samples, $(du -m "$pcap" | cut -f1) MB"

cat > "$work/sfacctd.conf" <<CONF
daemonize: false
pcap_savefile: $pcap
plugins: print
aggregate: src_host, dst_host, src_port, dst_port, proto
print_output: csv
print_output_file: $work/sfacctd-out.csv
print_refresh_time: 3600
logfile: $work/sfacctd.log
CONF

median() { python3 -c 'import sys,statistics; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
timeit() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N); python3 -c "print($e-$s)"; }

declare -A T
for tool in tusk sfacctd tshark; do
  runs=()
  for i in 1 2 3; do
    case $tool in
      tusk) runs+=("$(timeit "$TUSK" sflow decode --pcap "$pcap")") ;;
      sfacctd) runs+=("$(timeit sfacctd -f "$work/sfacctd.conf")") ;;
      tshark) runs+=("$(timeit tshark -n -V -r "$pcap" -d udp.port==6343,sflow)") ;;
    esac
  done
  T[$tool]=$(median "${runs[@]}")
  printf '%-8s median %8.2f s  (%s)  %10.0f samples/s\n' "$tool" "${T[$tool]}" "${runs[*]}" "$(python3 -c "print($samples/${T[$tool]})")"
done
python3 -c "
t=${T[tusk]}; s=${T[sfacctd]}; w=${T[tshark]}
print(f'ratio: sfacctd/tusk = {s/t:.2f}x   tshark -V/tusk = {w/t:.2f}x  (higher: tusk faster)')"
# Sanity: sfacctd really decoded the flows (its CSV has rows).
rows=$(wc -l < "$work/sfacctd-out.csv" 2>/dev/null || echo 0)
echo "sfacctd output rows: $rows"
