#!/usr/bin/env bash
# The import section of `make bench` (issue 16), sourced by bench/run.sh, or run alone:
# `bash bench/import.sh` prints the table. It measures `syndicate import` of 100,000 small articles
# in 8 channels (one JSON Lines file of about 24 MB, bench/importgen) on SQLite and, when
# SYNDICATE_TEST_PG_DSN is set, PostgreSQL, with /usr/bin/time -v; the machine's own sqlite3 CLI
# (.import of a CSV into a table of the same shape) and psql \copy loading the same rows, as the
# physical limit; peak RSS for a 1,000,000-article file; and the Go benchmarks BenchmarkImport,
# BenchmarkPostArticles and BenchmarkBackfill (bench/importdata). It writes $WORK/import.md.
#
# Knobs: BENCH_IMPORT_N (100000), BENCH_IMPORT_BIG (1000000; 0 skips the memory run).
set -euo pipefail

if [[ -z ${WORK:-} ]]; then # run alone
	cd "$(dirname "${BASH_SOURCE[0]}")/.."
	GO=${GO:-go}
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/syndicate-import.XXXXXX")
	trap 'rm -rf "$WORK"' EXIT
	say() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
	fmt_int() { awk -v n="$1" 'BEGIN { s = sprintf("%.0f", n); r = ""; while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }; print s r }'; }
	logged() { "$@"; }
	apt_install() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "$@" >&2; }
	IMPORT_ALONE=1
fi

IMPORT_N=${BENCH_IMPORT_N:-100000}
IMPORT_BIG=${BENCH_IMPORT_BIG:-1000000}
command -v sqlite3 >/dev/null || apt_install sqlite3
[[ -x /usr/bin/time ]] || apt_install time

IMP=$WORK/import
mkdir -p "$IMP"
say "import: building syndicate and bench/importgen; generating $(fmt_int "$IMPORT_N") articles"
$GO build -o "$IMP/syndicate" ./cmd/syndicate
$GO build -o "$IMP/importgen" ./bench/importgen
"$IMP/importgen" -n "$IMPORT_N" >"$IMP/articles.jsonl"
"$IMP/importgen" -n "$IMPORT_N" -csv >"$IMP/articles.csv"
IMPORT_BYTES=$(stat -c %s "$IMP/articles.jsonl")

# timed NAME CMD...: runs CMD under /usr/bin/time -v; sets T_WALL (s), T_CPU (s) and T_RSS (MB).
timed() {
	local name=$1
	shift
	logged /usr/bin/time -v -o "$IMP/$name.time" "$@" >"$IMP/$name.out" 2>"$IMP/$name.err" ||
		{ say "import: $name failed: $(tail -n 2 "$IMP/$name.err" "$IMP/$name.out" | tr '\n' ' ')"; T_WALL=""; return 1; }
	T_WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$IMP/$name.time")
	T_CPU=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {print u + s}' "$IMP/$name.time")
	T_RSS=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2 / 1024}' "$IMP/$name.time")
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s + 0 == 0) print "–"; else printf "%.0f", n / s }'; }
IMPORT_TABLE=$IMP/table.md
irow() {
	local out="|" c
	for c in "$@"; do out+=" $c |"; done
	echo "$out" >>"$IMPORT_TABLE"
}
iverdict() { if awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN { exit !(op == ">=" ? a >= b : a <= b) }'; then echo "met"; else echo "**missed**"; fi; }
{
	echo "| Case | Articles/s | Wall s | CPU s (user+sys) | Peak RSS MB | Target |"
	echo "| --- | --- | --- | --- | --- | --- |"
} >"$IMPORT_TABLE"
IMPORT_TARGETS=$IMP/targets.md
: >"$IMPORT_TARGETS"

# --- SQLite --------------------------------------------------------------------------------------
say "import: syndicate import, SQLite"
if timed sqlite env -u SYNDICATE_BENCH_DIR -u SYNDICATE_BENCH_PG_SCHEMA -u SYNDICATE_BENCH_ARTICLES SYNDICATE_DATA_DIR="$IMP/sqlite" SYNDICATE_DEMO=false "$IMP/syndicate" import --quiet "$IMP/articles.jsonl"; then
	r=$(rate "$IMPORT_N" "$T_WALL")
	irow "\`syndicate import\`, SQLite, empty store" "$(fmt_int "$r")" "$T_WALL" "$T_CPU" "$T_RSS" "≥ 20,000/s: $(iverdict "$r" ">=" 20000)"
	echo "- \`syndicate import\` of $(fmt_int "$IMPORT_N") articles ($(fmt_int "$IMPORT_BYTES") B of JSON Lines), SQLite: $(fmt_int "$r") articles/s (target ≥ 20,000/s): $(iverdict "$r" ">=" 20000)." >>"$IMPORT_TARGETS"
fi
if timed sqlite-again env -u SYNDICATE_BENCH_DIR -u SYNDICATE_BENCH_PG_SCHEMA -u SYNDICATE_BENCH_ARTICLES SYNDICATE_DATA_DIR="$IMP/sqlite" SYNDICATE_DEMO=false "$IMP/syndicate" import --quiet "$IMP/articles.jsonl"; then
	irow "the same file again (all unchanged: hashes compared, nothing written)" "$(fmt_int "$(rate "$IMPORT_N" "$T_WALL")")" "$T_WALL" "$T_CPU" "$T_RSS" ""
fi
say "import: sqlite3 .import of the same rows"
cat >"$IMP/sqlite3.sql" <<EOF
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE articles (id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, hash TEXT NOT NULL, published_at TEXT NOT NULL, data TEXT NOT NULL);
.mode csv
.import $IMP/articles.csv articles
EOF
if timed sqlite3 sh -c "sqlite3 '$IMP/sqlite3.db' <'$IMP/sqlite3.sql'"; then
	irow "sqlite3 CLI \`.import\` of the rows as CSV (physical limit)" "$(fmt_int "$(rate "$IMPORT_N" "$T_WALL")")" "$T_WALL" "$T_CPU" "$T_RSS" ""
fi

if [[ $IMPORT_BIG -gt 0 ]]; then
	say "import: $(fmt_int "$IMPORT_BIG") articles, SQLite (memory)"
	"$IMP/importgen" -n "$IMPORT_BIG" >"$IMP/big.jsonl"
	if timed big env -u SYNDICATE_BENCH_DIR -u SYNDICATE_BENCH_PG_SCHEMA -u SYNDICATE_BENCH_ARTICLES SYNDICATE_DATA_DIR="$IMP/big" SYNDICATE_DEMO=false "$IMP/syndicate" import --quiet "$IMP/big.jsonl"; then
		irow "\`syndicate import\` of $(fmt_int "$IMPORT_BIG") articles ($(fmt_int "$(stat -c %s "$IMP/big.jsonl")") B), SQLite" "$(fmt_int "$(rate "$IMPORT_BIG" "$T_WALL")")" "$T_WALL" "$T_CPU" "$T_RSS" "≤ 120 MB: $(iverdict "$T_RSS" "<=" 120)"
		echo "- peak RSS importing $(fmt_int "$IMPORT_BIG") articles: $T_RSS MB (target ≤ 120 MB): $(iverdict "$T_RSS" "<=" 120)." >>"$IMPORT_TARGETS"
	fi
	rm -rf "$IMP/big.jsonl" "$IMP/big"
fi

# --- PostgreSQL ----------------------------------------------------------------------------------
if [[ -n ${SYNDICATE_TEST_PG_DSN:-} ]] && command -v psql >/dev/null; then
	schema=syndicate_import_bench_$$
	sep='?'
	[[ $SYNDICATE_TEST_PG_DSN == *\?* ]] && sep='&'
	export PGOPTIONS="-c client_min_messages=warning"
	psql -q "$SYNDICATE_TEST_PG_DSN" -c "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null
	say "import: syndicate import, PostgreSQL"
	if timed pg env -u SYNDICATE_BENCH_DIR -u SYNDICATE_BENCH_PG_SCHEMA -u SYNDICATE_BENCH_ARTICLES SYNDICATE_STORE_DSN="$SYNDICATE_TEST_PG_DSN${sep}search_path=$schema" SYNDICATE_DEMO=false "$IMP/syndicate" import --quiet "$IMP/articles.jsonl"; then
		r=$(rate "$IMPORT_N" "$T_WALL")
		irow "\`syndicate import\`, PostgreSQL, empty store" "$(fmt_int "$r")" "$T_WALL" "$T_CPU (client)" "$T_RSS" "≥ 15,000/s: $(iverdict "$r" ">=" 15000)"
		echo "- \`syndicate import\` of $(fmt_int "$IMPORT_N") articles, PostgreSQL: $(fmt_int "$r") articles/s (target ≥ 15,000/s): $(iverdict "$r" ">=" 15000)." >>"$IMPORT_TARGETS"
	fi
	say "import: psql \\copy of the same rows"
	psql -q "$SYNDICATE_TEST_PG_DSN" -c "CREATE TABLE $schema.copied (id text PRIMARY KEY, seq bigint NOT NULL UNIQUE, hash text NOT NULL, published_at timestamptz NOT NULL, data json NOT NULL)" >/dev/null
	if timed psql psql -q "$SYNDICATE_TEST_PG_DSN" -c "\\copy $schema.copied FROM '$IMP/articles.csv' WITH (FORMAT csv)"; then
		irow "psql \`\\copy\` of the rows as CSV (physical limit)" "$(fmt_int "$(rate "$IMPORT_N" "$T_WALL")")" "$T_WALL" "$T_CPU (client)" "$T_RSS" ""
	fi
	psql -q "$SYNDICATE_TEST_PG_DSN" -c "DROP SCHEMA $schema CASCADE" >/dev/null
fi

# --- Go benchmarks -------------------------------------------------------------------------------
say "import: go test -bench 'Import|PostArticles|Backfill' ./bench/importdata/"
logged $GO test -run '^$' -bench '^Benchmark(Import|PostArticles|Backfill)' -benchtime 1x -count=1 -timeout 30m ./bench/importdata/ >"$IMP/gobench.raw" 2>&1 ||
	say "import: go test failed: $(grep -m 1 -e 'FAIL' -e 'panic:' "$IMP/gobench.raw" || true)"
metric() { # benchmark, unit
	awk -v n="$1" -v u="$2" '{name = $1; sub(/-[0-9]+$/, "", name)} name == n {for (i = 2; i <= NF; i++) if ($i == u) print $(i-1)}' "$IMP/gobench.raw"
}
for engine in sqlite postgres; do
	r=$(metric "BenchmarkImport/$engine" "articles/s")
	if [[ -n $r ]]; then irow "BenchmarkImport/$engine (in process, $(fmt_int 100000) articles)" "$(fmt_int "$r")" "" "" "" ""; fi
done
r=$(metric BenchmarkPostArticles "articles/s")
if [[ -n $r ]]; then
	irow "\`POST /api/articles\`, JSON Lines bodies of 10,000 records (BenchmarkPostArticles)" "$(fmt_int "$r")" "" "" "" "≥ 10,000/s: $(iverdict "$r" ">=" 10000)"
	echo "- \`POST /api/articles\` in JSON Lines bodies of 10,000 records: $(fmt_int "$r") articles/s (target ≥ 10,000/s): $(iverdict "$r" ">=" 10000)." >>"$IMPORT_TARGETS"
fi
s=$(metric BenchmarkBackfill "backfill-s")
if [[ -n $s ]]; then
	irow "whole backfill, SQLite + embedded NATS (BenchmarkBackfill): import $(metric BenchmarkBackfill import-s) s, builds $(metric BenchmarkBackfill builds-s) s (slowest job $(metric BenchmarkBackfill slowest-build-s) s), relay $(metric BenchmarkBackfill relay-s) s" "$(fmt_int "$(rate 100000 "$s")")" "$s" "" "" "≤ 30 s: $(iverdict "$s" "<=" 30)"
	echo "- whole backfill of $(fmt_int 100000) articles (import, every feed rebuilt, every published event acknowledged), SQLite with the embedded NATS server: $s s (target ≤ 30 s): $(iverdict "$s" "<=" 30)." >>"$IMPORT_TARGETS"
fi

{
	echo "## Import"
	echo
	echo "Issue 16: $(fmt_int "$IMPORT_N") small articles in 8 channels, one JSON Lines file of $(fmt_int "$IMPORT_BYTES") B (bench/importgen), into"
	echo "an empty store; \`/usr/bin/time -v\` gives wall, CPU and peak RSS. Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo "The physical limit rows load the same rows, as CSV, into a table of the articles table's shape (id key, unique"
	echo "seq, hash, published_at, JSON data) with the machine's own $(sqlite3 --version | cut -d' ' -f1-1 | sed 's/^/sqlite3 /') and $(psql --version 2>/dev/null | head -n 1 || echo psql)."
	echo
	cat "$IMPORT_TABLE"
	echo
	cat "$IMPORT_TARGETS"
} >"$WORK/import.md"

if [[ -n ${IMPORT_ALONE:-} ]]; then cat "$WORK/import.md"; fi
