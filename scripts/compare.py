#!/usr/bin/env python3
"""ffcol next to polars, DuckDB and pyarrow, measured in one run on the same synthetic files.

Run through scripts/compare.sh (builds ffcol and compare-reader, sets up .venv-compare/).

What is measured (see docs/PERFORMANCE.md):
  1. csv.gz -> Parquet (zstd level 3) of an options minute day, each tool a whole child
     process: wall time, CPU time (user + system), peak RSS (from /usr/bin/time), output
     bytes. ffcol converts to .ffc (its default, zstd level 1), also with `--inflate zlib`
     and, for peak RSS as files grow, a day of twice the rows. `gzip -dc`, `pigz -dc` and
     ISA-L's `igzip -dc` to /dev/null give the inflate floors. Then --jobs-files stocks
     minute days converted with `--jobs 1` and with `--jobs 2`. The tools take turns, one
     run each per round (--convert-runs rounds), so that a noisy moment does not fall on one
     tool only; each tool's best round is kept.
  2. One ticker from N stocks minute days, all columns: peers read Parquet files sorted by
     (ticker, window_start) with row groups of 65,536 rows, filtering in-process; ffcol through
     the reader library in-process (compare-reader) and as a whole `ffcol scan --format csv`
     process. Best of --runs.
  3. The sum of one column (volume) over every row of the N days, in-process, best of --runs.
Ratios are each figure over ffcol's. A last table sets the figures against the speed targets
(docs/PERFORMANCE.md, "Against the targets of the speed issue").
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time

PY = sys.executable
SCHEMA = [("ticker", "str"), ("volume", "f64"), ("open", "f64"), ("close", "f64"), ("high", "f64"),
          ("low", "f64"), ("window_start", "i64"), ("transactions", "i64")]
OPTIONS_DATE = "2025-09-29"
OPTIONS_DATE_2X = "2025-09-30"
ROW_GROUP = 65536


def weekdays(start, n):
    d = datetime.date.fromisoformat(start)
    out = []
    while len(out) < n:
        if d.weekday() < 5:
            out.append(d.isoformat())
        d += datetime.timedelta(days=1)
    return out


def log(msg):
    print(f"[compare] {msg}", file=sys.stderr, flush=True)


def run_measured(cmd, scratch):
    """Runs cmd as a child under /usr/bin/time; returns wall seconds (measured here), CPU
    seconds and peak RSS bytes of the command. (/usr/bin/time rather than wait4 from this
    process: a child forked from a large Python process reports the parent's RSS as its peak.)"""
    out = f"{scratch}/time.txt"
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", out, *cmd],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({p.returncode}): {p.stderr.decode(errors='replace')[-2000:]}")
    with open(out) as f:
        rss_kb, user, system = f.read().split()[-3:]
    return {"wall": wall, "cpu": float(user) + float(system), "rss": int(rss_kb) * 1024}


def py_child(code, *args):
    return [PY, "-c", code, *args]


# MARK: - Conversion snippets (each runs in its own process)

POLARS_CONVERT = """
import sys, polars as pl
schema = {"ticker": pl.Utf8, "volume": pl.Float64, "open": pl.Float64, "close": pl.Float64,
          "high": pl.Float64, "low": pl.Float64, "window_start": pl.Int64, "transactions": pl.Int64}
pl.read_csv(sys.argv[1], schema=schema).write_parquet(sys.argv[2], compression="zstd", compression_level=3)
"""

DUCKDB_CONVERT = """
import sys, duckdb
cols = "{'ticker': 'VARCHAR', 'volume': 'DOUBLE', 'open': 'DOUBLE', 'close': 'DOUBLE', 'high': 'DOUBLE', 'low': 'DOUBLE', 'window_start': 'BIGINT', 'transactions': 'BIGINT'}"
duckdb.sql(f"COPY (SELECT * FROM read_csv('{sys.argv[1]}', header=true, columns={cols})) "
           f"TO '{sys.argv[2]}' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 3)")
"""

PYARROW_CONVERT = """
import sys, pyarrow as pa, pyarrow.csv as csv, pyarrow.parquet as pq
types = {"ticker": pa.string(), "volume": pa.float64(), "open": pa.float64(), "close": pa.float64(),
         "high": pa.float64(), "low": pa.float64(), "window_start": pa.int64(), "transactions": pa.int64()}
t = csv.read_csv(pa.input_stream(sys.argv[1], compression="gzip"),
                 convert_options=csv.ConvertOptions(column_types=types))
pq.write_table(t, sys.argv[2], compression="zstd", compression_level=3)
"""

# Parquet for the scans: sorted by (ticker, window_start), row groups of ROW_GROUP rows.
PYARROW_SORTED = """
import sys, pyarrow as pa, pyarrow.csv as csv, pyarrow.parquet as pq
types = {"ticker": pa.string(), "volume": pa.float64(), "open": pa.float64(), "close": pa.float64(),
         "high": pa.float64(), "low": pa.float64(), "window_start": pa.int64(), "transactions": pa.int64()}
t = csv.read_csv(pa.input_stream(sys.argv[1], compression="gzip"),
                 convert_options=csv.ConvertOptions(column_types=types))
t = t.sort_by([("ticker", "ascending"), ("window_start", "ascending")])
pq.write_table(t, sys.argv[2], compression="zstd", compression_level=3, row_group_size=int(sys.argv[3]))
"""

# MARK: - In-process scan snippets: print {"seconds": best, "rows": n, "checksum": x}

SCAN_COMMON = """
import sys, json, time
files = json.loads(sys.argv[1]); what = sys.argv[2]; arg = sys.argv[3]; runs = int(sys.argv[4])
best = float("inf"); res = None
for _ in range(runs):
    t0 = time.perf_counter()
    res = run(files, what, arg)
    best = min(best, time.perf_counter() - t0)
print(json.dumps({"seconds": best, "rows": res[0], "checksum": res[1]}))
"""

POLARS_SCAN = """
import polars as pl
def run(files, what, arg):
    lf = pl.scan_parquet(files)
    if what == "scan":
        df = lf.filter(pl.col("ticker") == arg).collect()
        return df.height, float(df["close"].sum())
    df = lf.select(pl.len().alias("n"), pl.col(arg).sum().alias("s")).collect()
    return int(df["n"][0]), float(df["s"][0])
""" + SCAN_COMMON

DUCKDB_SCAN = """
import duckdb, pyarrow.compute as pc
con = duckdb.connect()
def run(files, what, arg):
    if what == "scan":
        t = con.execute("SELECT * FROM read_parquet(?) WHERE ticker = ?", [files, arg]).to_arrow_table()
        return t.num_rows, float(pc.sum(t["close"]).as_py() or 0)
    n, s = con.execute(f"SELECT count(*), sum({arg}) FROM read_parquet(?)", [files]).fetchone()
    return int(n), float(s)
""" + SCAN_COMMON

PYARROW_SCAN = """
import pyarrow.parquet as pq, pyarrow.compute as pc
def run(files, what, arg):
    if what == "scan":
        t = pq.read_table(files, filters=[("ticker", "==", arg)])
        return t.num_rows, float(pc.sum(t["close"]).as_py() or 0)
    t = pq.read_table(files, columns=[arg])
    return t.num_rows, float(pc.sum(t[arg]).as_py())
""" + SCAN_COMMON


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ffcol", required=True, help="the ffcol binary (release build)")
    ap.add_argument("--reader", required=True, help="the compare-reader binary (release build)")
    ap.add_argument("--dir", default="compare-data", help="work folder (files are cached there)")
    ap.add_argument("--options-rows", type=int, default=1_000_000)
    ap.add_argument("--stocks-rows", type=int, default=500_000)
    ap.add_argument("--days", type=int, default=20)
    ap.add_argument("--runs", type=int, default=5, help="runs per scan (best is kept)")
    ap.add_argument("--convert-runs", type=int, default=1,
                    help="rounds of conversions, each tool once per round (best wall is kept)")
    ap.add_argument("--jobs-files", type=int, default=10,
                    help="stocks minute days converted with --jobs 1 and --jobs 2 (0: skip)")
    ap.add_argument("--ticker", default="SPY")
    ap.add_argument("--column", default="volume")
    ap.add_argument("--full", action="store_true", help="real sizes: 5,500,000 options rows, 4,000,000 stocks rows a day")
    ap.add_argument("--only", default="", help="comma list of sections to run: convert,scan,sum")
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args()
    if a.full:
        a.options_rows, a.stocks_rows = 5_500_000, 4_000_000
    only = set(filter(None, a.only.split(","))) or {"convert", "scan", "sum"}

    base = os.path.abspath(a.dir)
    flat = f"{base}/flat/o{a.options_rows}-s{a.stocks_rows}"
    dates = weekdays("2025-09-02", a.days)
    opt_gz = f"{flat}/us_options_opra/minute_aggs_v1/2025/09/{OPTIONS_DATE}.csv.gz"

    def stocks_gz(d):
        return f"{flat}/us_stocks_sip/minute_aggs_v1/{d[:4]}/{d[5:7]}/{d}.csv.gz"

    # MARK: Files (cached)
    jobs = []
    if not os.path.exists(opt_gz):
        jobs.append(["--dataset", "options_minute", "--date", OPTIONS_DATE, "--rows", str(a.options_rows), "--out", opt_gz])
    # A day of twice the rows, for peak RSS as files grow (converted by ffcol only).
    opt2_gz = f"{flat}/us_options_opra/minute_aggs_v1/2025/09/{OPTIONS_DATE_2X}.csv.gz"
    if "convert" in only and not os.path.exists(opt2_gz):
        jobs.append(["--dataset", "options_minute", "--date", OPTIONS_DATE_2X, "--rows", str(2 * a.options_rows),
                     "--out", opt2_gz])
    for d in dates:
        if not os.path.exists(stocks_gz(d)):
            jobs.append(["--dataset", "stocks_minute", "--date", d, "--rows", str(a.stocks_rows), "--out", stocks_gz(d)])
    if jobs:
        log(f"generating {len(jobs)} flat files with ffcol synth")
        for j in jobs:
            os.makedirs(os.path.dirname(j[-1]), exist_ok=True)
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            for _ in ex.map(lambda j: subprocess.run([a.ffcol, "synth", *j], check=True, stderr=subprocess.DEVNULL), jobs):
                pass

    # The format version ffcol writes is in the folder name, so that files an older ffcol
    # wrote are not measured as this one's.
    ver = subprocess.run([a.ffcol, "--version"], capture_output=True, text=True, check=True).stdout
    fmt = ver.split("format ")[1].split(".")[0] if "format " in ver else "unknown"
    ffc_root = f"{base}/ffc/v{fmt}-s{a.stocks_rows}x{a.days}"
    pq_dir = f"{base}/parquet/s{a.stocks_rows}"
    pq_files = [f"{pq_dir}/{d}.parquet" for d in dates]
    if {"scan", "sum"} & only:
        missing = [d for d in dates if not os.path.exists(f"{ffc_root}/stocks_minute/{d[:4]}/{d[5:7]}/{d}.ffc")]
        if missing:
            log(f"converting {len(missing)} stocks days to .ffc")
            subprocess.run([a.ffcol, "convert", "--out", ffc_root, *[stocks_gz(d) for d in missing]],
                           check=True, stdout=subprocess.DEVNULL)
        os.makedirs(pq_dir, exist_ok=True)
        missing = [d for d in dates if not os.path.exists(f"{pq_dir}/{d}.parquet")]
        if missing:
            log(f"writing {len(missing)} sorted Parquet files (row groups of {ROW_GROUP} rows)")
            with concurrent.futures.ThreadPoolExecutor(2) as ex:
                list(ex.map(lambda d: subprocess.run(py_child(PYARROW_SORTED, stocks_gz(d), f"{pq_dir}/{d}.parquet",
                                                              str(ROW_GROUP)), check=True), missing))

    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "options_rows": a.options_rows, "stocks_rows": a.stocks_rows, "days": a.days,
               "runs": a.runs, "ticker": a.ticker, "column": a.column,
               "options_gz_bytes": os.path.getsize(opt_gz), "versions": versions()}

    # MARK: 1. csv.gz -> columnar
    if "convert" in only:
        out = f"{base}/out"
        os.makedirs(out, exist_ok=True)
        ffc_out, zlib_out, big_out = f"{out}/ffc", f"{out}/ffc-zlib", f"{out}/ffc-2x"
        ffc_file = f"options_minute/2025/09/{OPTIONS_DATE}.ffc"
        # (name, command, output file or folder to remove before each run and to size after)
        tools = [("ffcol convert", [a.ffcol, "convert", "--out", ffc_out, opt_gz], f"{ffc_out}/{ffc_file}"),
                 ("ffcol convert --inflate zlib", [a.ffcol, "convert", "--inflate", "zlib", "--out", zlib_out, opt_gz],
                  f"{zlib_out}/{ffc_file}"),
                 ("ffcol convert, 2 x the rows", [a.ffcol, "convert", "--out", big_out, opt2_gz],
                  f"{big_out}/options_minute/2025/09/{OPTIONS_DATE_2X}.ffc"),
                 ("polars", py_child(POLARS_CONVERT, opt_gz, f"{out}/polars.parquet"), f"{out}/polars.parquet"),
                 ("DuckDB", py_child(DUCKDB_CONVERT, opt_gz, f"{out}/duckdb.parquet"), f"{out}/duckdb.parquet"),
                 ("pyarrow", py_child(PYARROW_CONVERT, opt_gz, f"{out}/pyarrow.parquet"), f"{out}/pyarrow.parquet"),
                 ("gzip -dc (inflate floor)", ["gzip", "-dc", opt_gz], None)]
        for tool in ("pigz", "igzip"):
            if shutil.which(tool):
                tools.append((f"{tool} -dc (inflate floor)", [tool, "-dc", opt_gz], None))
            else:
                log(f"{tool} not found: no {tool} -dc row (scripts/compare.sh installs it)")
        jobs_files = [stocks_gz(d) for d in dates[:max(0, a.jobs_files)]]
        jobs_tools = []
        if jobs_files:
            for j in (1, 2):
                folder = f"{out}/jobs{j}"
                jobs_tools.append((f"ffcol convert --jobs {j}, {len(jobs_files)} stocks days",
                                   [a.ffcol, "convert", "--quiet", "--jobs", str(j), "--out", folder, *jobs_files], folder))
        measured = {}  # name -> one measurement per round
        rounds = max(1, a.convert_runs)
        for r in range(rounds):
            log(f"conversions, round {r + 1} of {rounds}")
            for name, cmd, target in tools + jobs_tools:
                if target and os.path.isdir(target):
                    shutil.rmtree(target)
                elif target and os.path.exists(target):
                    os.remove(target)
                measured.setdefault(name, []).append(run_measured(cmd, out))

        def best_round(name, target):
            m = dict(min(measured[name], key=lambda x: x["wall"]))
            if target and os.path.isfile(target):
                m["bytes"] = os.path.getsize(target)
            log(f"{name}: {m['wall']:.2f} s wall (best of {rounds}), {m['cpu']:.2f} s CPU, {m['rss'] / 1e6:.0f} MB RSS")
            return m

        conv = {name: best_round(name, target) for name, _, target in tools}
        jobs_res = {name: best_round(name, None) for name, _, _ in jobs_tools}
        for _, _, folder in jobs_tools:
            shutil.rmtree(folder, ignore_errors=True)  # 10 days of .ffc twice: not kept
        # Every Parquet file has the rows of the CSV.
        import pyarrow.parquet as pq
        for name in ("polars", "duckdb", "pyarrow"):
            n = pq.ParquetFile(f"{out}/{name}.parquet").metadata.num_rows
            if n != a.options_rows:
                raise SystemExit(f"{name} wrote {n} rows, expected {a.options_rows}")
        results["convert"] = conv
        if jobs_res:
            results["jobs"] = jobs_res

    # MARK: 2. and 3. scans
    def peer(code, what, arg):
        r = subprocess.run(py_child(code, json.dumps(pq_files), what, arg, str(a.runs)),
                           check=True, capture_output=True, text=True)
        return json.loads(r.stdout)

    def reader(what, arg):
        r = subprocess.run([a.reader, what, ffc_root, "stocks_minute", arg, str(a.runs)],
                           check=True, capture_output=True, text=True)
        return json.loads(r.stdout)

    for section, what, arg in (("scan", "scan", a.ticker), ("sum", "sum", a.column)):
        if section not in only:
            continue
        res = {"ffcol (library)": reader(what, arg)}
        if what == "scan":
            best = float("inf")
            for _ in range(a.runs):
                t0 = time.perf_counter()
                subprocess.run([a.ffcol, "scan", "--root", ffc_root, "--dataset", "stocks_minute",
                                "--ticker", arg, "--format", "csv"], check=True, stdout=subprocess.DEVNULL)
                best = min(best, time.perf_counter() - t0)
            res["ffcol scan --format csv (process)"] = {"seconds": best, "rows": res["ffcol (library)"]["rows"]}
        res["polars"] = peer(POLARS_SCAN, what, arg)
        res["DuckDB"] = peer(DUCKDB_SCAN, what, arg)
        res["pyarrow"] = peer(PYARROW_SCAN, what, arg)
        rows = {k: v["rows"] for k, v in res.items()}
        if len(set(rows.values())) != 1:
            raise SystemExit(f"{section}: row counts differ: {rows}")
        for k, v in res.items():
            log(f"{section} {k}: {v['seconds'] * 1000:.2f} ms, {v['rows']} rows")
        results[section] = res

    print_tables(results)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)


def versions():
    out = {"python": platform.python_version()}
    for mod in ("polars", "duckdb", "pyarrow"):
        try:
            out[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001 - reported as missing
            out[mod] = "missing"
    for tool in ("gzip", "pigz", "igzip"):
        try:
            r = subprocess.run([tool, "--version"], capture_output=True, text=True)
            out[tool] = (r.stdout or r.stderr).splitlines()[0]
        except Exception:  # noqa: BLE001
            out[tool] = "missing"
    return out


def print_tables(r):
    print(f"\nmeasured {r['date']}; options minute day {r['options_rows']:,} rows "
          f"({r['options_gz_bytes'] / 1e6:.1f} MB gzip); {r['days']} stocks minute days of {r['stocks_rows']:,} rows; "
          f"python {r['versions']['python']}, polars {r['versions']['polars']}, duckdb {r['versions']['duckdb']}, "
          f"pyarrow {r['versions']['pyarrow']}; {r['versions']['pigz']}; {r['versions']['igzip']}\n")
    if "convert" in r:
        c = r["convert"]
        ref = c["ffcol convert"]
        print("csv.gz -> columnar (options minute day), whole processes\n")
        print("| tool | wall s | CPU s | peak RSS MB | output MB | wall / ffcol | CPU / ffcol |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for k, v in c.items():
            size = f"{v['bytes'] / 1e6:.1f}" if "bytes" in v else "-"
            print(f"| {k} | {v['wall']:.2f} | {v['cpu']:.2f} | {v['rss'] / 1e6:.0f} | {size} | "
                  f"{v['wall'] / ref['wall']:.2f} | {v['cpu'] / ref['cpu']:.2f} |")
        print()
    if "jobs" in r:
        j = r["jobs"]
        ref = next(iter(j.values()))
        print("the same stocks minute days converted one after another and two at a time, whole processes\n")
        print("| command | wall s | CPU s | peak RSS MB | wall / --jobs 1 |")
        print("|---|---:|---:|---:|---:|")
        for k, v in j.items():
            print(f"| {k} | {v['wall']:.2f} | {v['cpu']:.2f} | {v['rss'] / 1e6:.0f} | {v['wall'] / ref['wall']:.2f} |")
        print()
    for key, title in (("scan", f"one ticker ({r['ticker']}) from {r['days']} stocks minute days, all columns, best of {r['runs']}"),
                       ("sum", f"sum of {r['column']} over every row of {r['days']} stocks minute days, best of {r['runs']}")):
        if key not in r:
            continue
        s = r[key]
        ref = s["ffcol (library)"]["seconds"]
        print(f"{title}\n")
        print("| tool | ms | rows | time / ffcol (library) |")
        print("|---|---:|---:|---:|")
        for k, v in s.items():
            print(f"| {k} | {v['seconds'] * 1000:.2f} | {v['rows']:,} | {v['seconds'] / ref:.1f} |")
        print()

    t = targets(r)
    if t:
        print("against the targets of the speed issue (this run only; ratios of best runs)\n")
        print("| target | measured | met |")
        print("|---|---|---|")
        for what, got, ok in t:
            print(f"| {what} | {got} | {'yes' if ok else 'no'} |")
        print()


def targets(r):
    """(target, measured, met) for each target whose figures this run has."""
    out = []
    peers = ("polars", "DuckDB", "pyarrow")
    c = r.get("convert")
    if c:
        f = c["ffcol convert"]
        if "igzip -dc (inflate floor)" in c:
            x = f["wall"] / c["igzip -dc (inflate floor)"]["wall"]
            out.append(("convert <= 1.5 x `igzip -dc`", f"{x:.2f} x ({f['wall']:.2f} vs {c['igzip -dc (inflate floor)']['wall']:.2f} s)",
                        x <= 1.5))
        if "pigz -dc (inflate floor)" in c:
            z = c["ffcol convert --inflate zlib"]["wall"]
            x = z / c["pigz -dc (inflate floor)"]["wall"]
            out.append(("`convert --inflate zlib` <= 1.15 x `pigz -dc`",
                        f"{x:.2f} x ({z:.2f} vs {c['pigz -dc (inflate floor)']['wall']:.2f} s)", x <= 1.15))
        fastest = min(peers, key=lambda k: c[k]["wall"])
        x = c[fastest]["wall"] / f["wall"]
        out.append(("convert >= 4 x faster than the fastest peer", f"{x:.2f} x ({fastest} {c[fastest]['wall']:.2f} s)", x >= 4))
        big = c["ffcol convert, 2 x the rows"]["rss"]
        out.append(("peak RSS <= 200 MB, and a 2 x larger day not 2 x the memory",
                    f"{f['rss'] / 1e6:.0f} MB; {big / 1e6:.0f} MB at 2 x the rows ({big / f['rss']:.2f} x)",
                    f["rss"] <= 200e6 and big < 2 * f["rss"]))
        x = f["bytes"] / c["pyarrow"]["bytes"]
        out.append(("`.ffc` <= 0.5 x pyarrow's Parquet (zstd)", f"{x:.2f} x ({f['bytes'] / 1e6:.1f} vs {c['pyarrow']['bytes'] / 1e6:.1f} MB)",
                    x <= 0.5))
    j = r.get("jobs")
    if j and len(j) == 2:
        one, two = j.values()
        x = two["wall"] / one["wall"]
        out.append(("`--jobs 2` <= 0.6 x one after another", f"{x:.2f} x ({two['wall']:.2f} vs {one['wall']:.2f} s)", x <= 0.6))
    s = r.get("scan")
    if s:
        lib = s["ffcol (library)"]["seconds"]
        fastest = min(peers, key=lambda k: s[k]["seconds"])
        peer = s[fastest]["seconds"]
        out.append(("one ticker, library >= 20 x faster than the fastest peer",
                    f"{peer / lib:.1f} x ({lib * 1000:.2f} vs {fastest} {peer * 1000:.2f} ms)", peer / lib >= 20))
        proc = s["ffcol scan --format csv (process)"]["seconds"]
        out.append(("`ffcol scan` process faster than that peer in-process",
                    f"{proc * 1000:.2f} vs {peer * 1000:.2f} ms", proc < peer))
    m = r.get("sum")
    if m:
        lib = m["ffcol (library)"]["seconds"]
        fastest = min(peers, key=lambda k: m[k]["seconds"])
        x = m[fastest]["seconds"] / lib
        out.append(("sum of a column >= 2 x faster than the fastest peer",
                    f"{x:.1f} x ({lib * 1000:.1f} vs {fastest} {m[fastest]['seconds'] * 1000:.1f} ms)", x >= 2))
    return out


if __name__ == "__main__":
    main()
