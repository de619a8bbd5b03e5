#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for a bounded time, one after another.
#   Fuzz/run.sh [SECONDS]          default 60 seconds per target
#   FUZZ_RUNS=N                    also stop a target after N executions (0: time only)
#   FUZZ_TARGETS="FuzzSFlow ..."   which targets (default: all four)
#   FUZZ_COVERAGE=1                afterwards, list the functions the corpus reaches (-print_coverage=1)
#   SHARED=DIR                     where ../shared is (default: beside the repository); its conformance
#                                  captures and messages are added as extra seeds when present
# Seeds: Fuzz/corpus-seed/<target> (committed). New units go to Fuzz/corpus-work/<target>, logs to
# Fuzz/corpus-work/logs (both ignored by git). A crash, leak or timeout input is written to
# Fuzz/corpus-work/artifacts and makes this script fail.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
runs=${FUZZ_RUNS:-0}
targets=${FUZZ_TARGETS:-"FuzzSFlow FuzzOpenFlow FuzzPolicy FuzzTopology"}
shared=${SHARED:-../shared}
[[ $shared = /* ]] || shared="$(cd .. && pwd)/$shared"

# Every Swift module of the build (Tusk's decoders from the root package, swift-nio's ByteBuffer)
# must carry both coverage counters and ASan checks. `--sanitize=fuzzer --sanitize=address` does not
# do that: SwiftPM passes them as two -sanitize= flags and the compiler keeps only the last one
# (docs/fuzzing.md). So: `--sanitize=fuzzer` (SwiftPM then links libFuzzer's main instead of the
# executable's), then one combined -sanitize=fuzzer,address, which comes later on the command line
# and wins; the same for C code (libyaml). The check below proves it on the objects themselves.
flags=(-c release --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address)
for t in $targets; do swift build "${flags[@]}" --product "$t"; done
bin=$(swift build "${flags[@]}" --show-bin-path)
for m in Packets SFlow OpenFlow Topology PathSelection; do
    for o in "$bin/$m.build"/*.o; do
        [[ -e $o ]] || continue
        syms=$(nm "$o")
        if ! grep -q __sanitizer_cov <<<"$syms" || ! grep -q __asan_ <<<"$syms"; then
            echo "!! $o lacks coverage or ASan instrumentation" >&2
            exit 2
        fi
        break
    done
done

# The optional extra seeds from ../shared (never copied into the repository).
extra_dir() {
    local t=$1 d=corpus-work/shared-seed/$1 c=$shared/conformance
    case $t in
        FuzzSFlow)
            [[ -d $c/sflow ]] || return 0
            mkdir -p "$d"
            for f in "$c"/sflow/*.pcap; do ./udp-payloads.py "$f" "$d" "$(basename "$f" .pcap)"; done ;;
        FuzzOpenFlow)
            [[ -d $c/openflow13/packets ]] || return 0
            mkdir -p "$d"
            # Each message as a stream in one read (first byte 0).
            for f in "$c"/openflow13/packets/*; do
                { printf '\x00'; cat "$f"; } > "$d/$(basename "$f").bin"
            done ;;
        *) return 0 ;;
    esac
    echo "$d"
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
# libFuzzer reports crashes itself (and saves the input); the Swift backtracer would get in its way.
export SWIFT_BACKTRACE=enable=no
mkdir -p corpus-work/logs corpus-work/artifacts
status=0
for t in $targets; do
    seed=corpus-seed/${t#Fuzz}
    seed=${seed,,}
    work=corpus-work/$t
    mkdir -p "$work"
    extra=$(extra_dir "$t")
    log=corpus-work/logs/$t.log
    # Datagrams and OpenFlow streams up to 4 KiB; YAML files up to 1 KiB (the YAML reader is the slow
    # part: small files keep the rate up, and every construct of the format fits in 1 KiB).
    case $t in FuzzPolicy|FuzzTopology) maxlen=1024 ;; *) maxlen=4096 ;; esac
    limit=""; [[ $runs -gt 0 ]] && limit=", at most $runs runs"
    echo "== $t: seeds $seed ${extra:+and $extra}, ${secs}s$limit; log $log"
    set +e
    "$bin/$t" "$work" "$seed" ${extra:+"$extra"} \
        -max_total_time="$secs" -runs="$((runs > 0 ? runs : -1))" -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix=corpus-work/artifacts/"$t"- > "$log" 2>&1
    rc=$?
    set -e
    grep -m1 -E '^#[0-9]+[[:space:]]+INITED' "$log" || true
    grep -E '^#[0-9]+[[:space:]]+(pulse|NEW|REDUCE|DONE)' "$log" | tail -n1 || true
    grep -E '^(stat::|Done |==[0-9]+==ERROR|SUMMARY|INFO: a leak)|Fatal error|Is the code instrumented' "$log" || true
    if [[ $rc -ne 0 ]]; then echo "!! $t failed (exit $rc): see $log"; status=1; fi
    if [[ ${FUZZ_COVERAGE:-0} = 1 ]]; then
        # Replays the corpus once and lists the functions it reached (with file and line).
        "$bin/$t" "$work" -runs=0 -print_coverage=1 -max_len="$maxlen" > "corpus-work/logs/$t.coverage" 2>&1 || true
        case $t in
            FuzzSFlow) dirs="Sources/SFlow Sources/Packets" ;;
            FuzzOpenFlow) dirs="Sources/OpenFlow" ;;
            FuzzPolicy) dirs="Sources/PathSelection" ;;
            FuzzTopology) dirs="Sources/Topology" ;;
        esac
        for d in $dirs; do
            echo "   $d: $(grep -c "^COVERED_FUNC.*$d/" "corpus-work/logs/$t.coverage") functions covered," \
                 "$(grep -c "^UNCOVERED_FUNC.*$d/" "corpus-work/logs/$t.coverage") not (corpus-work/logs/$t.coverage)"
        done
    fi
done
exit $status
