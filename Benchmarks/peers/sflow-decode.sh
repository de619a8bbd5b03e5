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
# Prints "WALL CPU" (seconds; CPU = user + system) for one run of a command.
timeit() { /usr/bin/time -f "%e %U %S" -o "$work/time.txt" "$@" >/dev/null 2>&1 || true; awk '{print $1, $2 + $3}' "$work/time.txt"; }

declare -A W C
for tool in tusk sfacctd tshark; do
  walls=(); cpus=()
  for i in 1 2 3; do
    case $tool in
      tusk) r=$(timeit "$TUSK" sflow decode --pcap "$pcap") ;;
      sfacctd) r=$(timeit sfacctd -f "$work/sfacctd.conf") ;;
      tshark) r=$(timeit tshark -n -V -r "$pcap" -d udp.port==6343,sflow) ;;
    esac
    walls+=("${r% *}"); cpus+=("${r#* }")
  done
  W[$tool]=$(median "${walls[@]}"); C[$tool]=$(median "${cpus[@]}")
  printf '%-8s wall median %7.2f s (%s)  CPU median %7.2f s (%s)  %10.0f samples per CPU-second\n' \
    "$tool" "${W[$tool]}" "${walls[*]}" "${C[$tool]}" "${cpus[*]}" "$(python3 -c "print($samples/max(${C[$tool]},0.001))")"
done
python3 -c "
tw, sw, ww = ${W[tusk]}, ${W[sfacctd]}, ${W[tshark]}
tc, sc, wc = ${C[tusk]}, ${C[sfacctd]}, ${C[tshark]}
print(f'ratio (wall): sfacctd/tusk = {sw/tw:.2f}x   tshark -V/tusk = {ww/tw:.2f}x')
print(f'ratio (CPU):  sfacctd/tusk = {sc/tc:.2f}x   tshark -V/tusk = {wc/tc:.2f}x   (higher: tusk faster)')"
# Sanity: sfacctd really decoded the flows (its CSV has rows).
rows=$(wc -l < "$work/sfacctd-out.csv" 2>/dev/null || echo 0)
echo "sfacctd output rows: $rows"
