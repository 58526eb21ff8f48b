#!/usr/bin/env bash
# Builds the seed corpora for the fuzz targets (Fuzz/) from `ffcol synth` files and a few
# broken ones. Usage: scripts/fuzz-seeds.sh FFCOL_BINARY OUT_DIR
# Each FuzzCSV seed is one control byte (split size, gzip wrap, dataset, backend) + file bytes;
# each FuzzGzip seed is one control byte (split size, block size) + a whole input file;
# each FuzzFFC seed is 0x00 + a whole .ffc file, or a control byte with odd low bit + edits;
# each FuzzBlocks seed is a chunk number, a row range, meta flags and block edits (Fuzz/Sources/FuzzBlocks).
set -euo pipefail
ffcol=$1; out=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out/csv" "$out/gzip" "$out/ffc" "$out/blocks"
"$ffcol" synth --dataset stocks_minute --date 2025-09-29 --rows 300 --seed 1 --out "$tmp/flat/" >/dev/null
"$ffcol" synth --dataset options_minute --date 2025-09-29 --rows 300 --seed 2 --out "$tmp/flat/" >/dev/null
s=$(find "$tmp/flat" -path '*us_stocks_sip*' -name '*.csv.gz'); o=$(find "$tmp/flat" -path '*us_options_opra*' -name '*.csv.gz')
{ gzip -dc "$s" || true; } | head -c 6000 > "$tmp/s.csv"; { gzip -dc "$o" || true; } | head -c 6000 | sed '$d' > "$tmp/o.csv"
seed() { { printf "\\x$(printf %02x "$1")"; cat "$2"; } > "$out/csv/$3"; }
seed 0 "$tmp/s.csv" stocks-plain; seed 1 "$tmp/s.csv" stocks-split2; seed 8 "$tmp/s.csv" stocks-gzwrap
seed 16 "$tmp/o.csv" options-plain; seed 56 "$tmp/o.csv" options-gz-zlib
seed 0 "$s" stocks-gzip-file; seed 32 "$o" options-gzip-file-zlib
head -c 700 "$s" > "$tmp/trunc.gz"; seed 0 "$tmp/trunc.gz" truncated-gzip
printf 'ticker,volume,open,close,high,low,window_start,transactions\nAAPL,1,x,1,1,1,1759152600000000000,1\n' > "$tmp/bad"; seed 0 "$tmp/bad" bad-value
printf 'ticker,volume,open\nAAPL,1,2\n' > "$tmp/hdr"; seed 0 "$tmp/hdr" bad-header
printf 'ticker,volume,open,close,high,low,window_start,transactions\r\nA,1e3,1.5,1.5,2,1,1759152600000000000,1\r\nA,1,1,1,1,1,1759152660000000000\r\n' > "$tmp/crlf"; seed 130 "$tmp/crlf" crlf-short-row
# Numbers at the edges of the parser's shortcuts and ranges: the largest whole second that fits
# (and, in a second seed, the next), 19 and 20 digits, Int64's extremes, long and tiny prices.
printf 'ticker,volume,open,close,high,low,window_start,transactions\nA,9007199254740993,0.0000001,0.0000001,1e308,-5e-324,9223372036000000000,9223372036854775807\nA,1,123456789.12345678,123456789.12345678,1.5,1.5,1759152600000000001,-9223372036854775808\nB,0,1,1,1,1,0000000000000000000,0\nB,1,1,1,1,1,01759152600000000000,1\n' > "$tmp/edges"; seed 0 "$tmp/edges" edge-values
printf 'ticker,volume,open,close,high,low,window_start,transactions\nA,1,1,1,1,1,9223372037000000000,1\n' > "$tmp/edge-range"; seed 0 "$tmp/edge-range" edge-out-of-range
gzseed() { { printf "\\x$(printf %02x "$1")"; cat "$2"; } > "$out/gzip/$3"; }
gzseed 0 "$s" stocks; gzseed 11 "$o" options-split4-block4096; gzseed 5 "$tmp/trunc.gz" truncated
cat "$s" "$o" > "$tmp/multi.gz"; gzseed 2 "$tmp/multi.gz" multi-member
{ cat "$s"; printf 'trailing garbage'; } > "$tmp/trail.gz"; gzseed 6 "$tmp/trail.gz" trailing-garbage
{ head -c 2000 "$s"; printf '\x1f\x8b'; } > "$tmp/magic.gz"; gzseed 3 "$tmp/magic.gz" truncated-then-magic
gzip -c "$tmp/bad" > "$tmp/named.gz"; gzseed 24 "$tmp/named.gz" with-file-name
printf '' | gzip -c > "$tmp/empty.gz"; gzseed 1 "$tmp/empty.gz" empty-member
gzseed 4 "$tmp/s.csv" plain-csv
"$ffcol" convert "$tmp/flat" --out "$tmp/data" -q >/dev/null
# Also format version 1 (no pages) and small pages (many per chunk).
"$ffcol" convert "$tmp/flat" --out "$tmp/data-v1" --page-rows 0 -q >/dev/null
"$ffcol" convert "$tmp/flat" --out "$tmp/data-p64" --page-rows 64 -q >/dev/null
for f in $(find "$tmp/data" "$tmp/data-v1" "$tmp/data-p64" -name '*.ffc'); do
  n=$(basename "$(dirname "$(dirname "$(dirname "$f")")")")
  v=$(basename "$(dirname "$(dirname "$(dirname "$(dirname "$f")")")")" | sed 's/^data//')
  { printf '\x00'; cat "$f"; } > "$out/ffc/$n$v-whole"
  { printf '\x00'; head -c $(( $(stat -c %s "$f") - 9 )) "$f"; } > "$out/ffc/$n$v-truncated"
done
printf '\x01\x10\x00\x01' > "$out/ffc/mutate-one"; printf '\x0d\x05\x00\x07\x20\x00\x01' > "$out/ffc/mutate-footer-fixsum"
printf '\x03\x40' > "$out/ffc/truncate"; printf '\x1d\x60\x02\x04' > "$out/ffc/mutate-entry-fixsums"
# Blocks: whole chunks (rows 0...all) of several chunks, a row range, and a few edits / meta changes.
for k in 0 7 21 40 63 90; do printf "\\x$(printf %02x $k)\x00\x00\xff\xff\x00\x00\x00" > "$out/blocks/chunk$k-all"; done
printf '\x03\x10\x00\x40\x00\x00\x00\x00' > "$out/blocks/rows-16-64"
printf '\x05\x00\x00\xff\xff\x00\x00\x00\x01\x18\x00\x01\x02\x00\x00\x00' > "$out/blocks/edit-volume-header-cut-open"
printf '\x09\x00\x00\xff\xff\x07\x2b\xff\x00\x03\x00\x80' > "$out/blocks/meta-encoding-counts"
echo "seeds in $out: $(ls "$out/csv" | wc -l) csv, $(ls "$out/gzip" | wc -l) gzip, $(ls "$out/ffc" | wc -l) ffc, $(ls "$out/blocks" | wc -l) blocks"
