"""A peer engine for the TPC-H runner (benches/tpch): one long-lived worker
per engine, driven by the Rust runner over stdin/stdout, one JSON object a
line each way.

    python peer.py ENGINE DATA_DIR THREADS      # ENGINE: duckdb datafusion polars spark
    python peer.py --versions                   # installed versions, for the README

On start the worker registers the 8 TPC-H tables as views over
DATA_DIR/<table>.parquet and prints one line:

    {"ready": true, "engine": "duckdb", "version": "2.0.0"}
    {"ready": false, "engine": "spark", "error": "No module named 'pyspark'"}

Then, per command line:

    {"query": "SELECT ...", "runs": 3}
        -> {"times_ms": [..3 timed runs..], "rows": 4, "result": [["A", "F", ...], ...]}
        -> {"error": "..."}                  (the query failed; the worker lives on)
    {"rss": true}
        -> {"peak_rss_bytes": 123, "note": "..."}
    {"quit": true}                           (or end of input) -> exits

Every query runs once untimed (warm-up), then `runs` timed runs; a timed run
is query execution plus full collection of the result into Arrow (or
Python rows for Spark without Arrow). The result of the last run is turned
into text rows after the clock stops: NULL for nulls, ISO dates, decimals
and floats as Python prints them; the runner compares those with the answer
files by the same rules as Flint's results.

Thread counts follow THREADS: DuckDB `SET threads`, DataFusion target
partitions, Polars POLARS_MAX_THREADS (set before import), Spark local[N].
"""

import json
import os
import resource
import sys
import time
import traceback

TABLES = ["nation", "region", "part", "supplier", "partsupp", "customer", "orders", "lineitem"]


def text(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def arrow_rows(table):
    cols = [c.to_pylist() for c in table.columns]
    return [[text(v) for v in row] for row in zip(*cols)] if cols else []


def vm_hwm(pid="self"):
    """Peak resident set of a process in bytes (VmHWM), or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def descendants(root):
    """Pids of all processes below `root` (Linux /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, stack = [], [root]
    while stack:
        for c in children.get(stack.pop(), []):
            out.append(c)
            stack.append(c)
    return out


class DuckDB:
    def __init__(self, data, threads):
        import duckdb

        self.version = duckdb.__version__
        self.con = duckdb.connect()
        self.con.execute(f"SET threads = {threads}")
        for t in TABLES:
            path = os.path.join(data, f"{t}.parquet").replace("'", "''")
            self.con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{path}')")

    def run(self, sql):
        return self.con.sql(sql).to_arrow_table()

    def rows(self, result):
        return arrow_rows(result)


class DataFusion:
    def __init__(self, data, threads):
        import datafusion

        self.version = datafusion.__version__
        config = datafusion.SessionConfig().with_target_partitions(threads)
        self.ctx = datafusion.SessionContext(config)
        for t in TABLES:
            self.ctx.register_parquet(t, os.path.join(data, f"{t}.parquet"))

    def run(self, sql):
        return self.ctx.sql(sql).to_arrow_table()

    def rows(self, result):
        return arrow_rows(result)


class Polars:
    def __init__(self, data, threads):
        os.environ["POLARS_MAX_THREADS"] = str(threads)
        import polars as pl

        self.version = pl.__version__
        if pl.thread_pool_size() != threads:
            raise RuntimeError(f"polars uses {pl.thread_pool_size()} threads, not {threads} (imported too early?)")
        frames = {t: pl.scan_parquet(os.path.join(data, f"{t}.parquet")) for t in TABLES}
        self.ctx = pl.SQLContext(frames=frames)

    def run(self, sql):
        return self.ctx.execute(sql.strip().rstrip(";"), eager=False).collect()

    def rows(self, result):
        return [[text(v) for v in row] for row in result.rows()]


class Spark:
    def __init__(self, data, threads):
        import pyspark
        from pyspark.sql import SparkSession

        self.version = pyspark.__version__
        memory = os.environ.get("FLINT_SPARK_DRIVER_MEMORY", "8g")
        os.environ.setdefault("PYSPARK_SUBMIT_ARGS", f"--driver-memory {memory} pyspark-shell")
        self.spark = (
            SparkSession.builder.master(f"local[{threads}]")
            .appName("flint-tpch-peer")
            .config("spark.driver.memory", memory)
            # 200 shuffle partitions (the default) is far too many for a
            # couple of cores; AQE coalesces further where it can.
            .config("spark.sql.shuffle.partitions", str(4 * threads))
            .config("spark.default.parallelism", str(threads))
            .config("spark.ui.enabled", "false")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate()
        )
        self.spark.sparkContext.setLogLevel("ERROR")
        for t in TABLES:
            self.spark.read.parquet(os.path.join(data, f"{t}.parquet")).createOrReplaceTempView(t)

    def run(self, sql):
        df = self.spark.sql(sql.strip().rstrip(";"))
        return df.toArrow() if hasattr(df, "toArrow") else df.collect()

    def close(self):
        self.spark.stop()

    def rows(self, result):
        if isinstance(result, list):
            return [[text(v) for v in row] for row in result]
        return arrow_rows(result)


ENGINES = {"duckdb": DuckDB, "datafusion": DataFusion, "polars": Polars, "spark": Spark}


def peak_rss(engine):
    own = vm_hwm() or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if engine != "spark":
        return {"peak_rss_bytes": own, "note": "VmHWM of the Python process"}
    jvm = [(p, vm_hwm(p)) for p in descendants(os.getpid())]
    jvm = [(p, m) for p, m in jvm if m]
    total = own + sum(m for _, m in jvm)
    note = f"VmHWM of Python ({own >> 20} MiB) + its JVM child ({sum(m for _, m in jvm) >> 20} MiB), "
    note += "summed (an upper bound: the two peaks need not coincide)"
    if not jvm:
        note = "VmHWM of the Python process only: no JVM child process found"
    return {"peak_rss_bytes": total, "note": note}


def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def serve(name, data, threads):
    try:
        engine = ENGINES[name](data, threads)
    except Exception as e:  # noqa: BLE001 - reported to the runner, which goes on without this peer
        traceback.print_exc(file=sys.stderr)
        send({"ready": False, "engine": name, "error": f"{type(e).__name__}: {e}"})
        return
    send({"ready": True, "engine": name, "version": engine.version})
    try:
        commands(name, engine)
    finally:
        if hasattr(engine, "close"):
            engine.close()


def commands(name, engine):
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        if cmd.get("quit"):
            return
        if cmd.get("rss"):
            send(peak_rss(name))
            continue
        try:
            result = engine.run(cmd["query"])
            times = []
            for _ in range(int(cmd.get("runs", 3))):
                start = time.perf_counter()
                result = engine.run(cmd["query"])
                times.append((time.perf_counter() - start) * 1e3)
            rows = engine.rows(result)
            send({"times_ms": times, "rows": len(rows), "result": rows})
        except Exception as e:  # noqa: BLE001 - a failed query is a result, not the end of the worker
            traceback.print_exc(file=sys.stderr)
            message = " ".join(f"{type(e).__name__}: {e}".split())
            send({"error": message[:500]})


def versions():
    from importlib import metadata

    for pkg in ["duckdb", "datafusion", "polars", "pyspark", "pyarrow"]:
        try:
            print(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            print(f"{pkg} not installed")


def main():
    if sys.argv[1:] == ["--versions"]:
        versions()
        return
    if len(sys.argv) != 4 or sys.argv[1] not in ENGINES:
        sys.exit(f"usage: {sys.argv[0]} {{{'|'.join(ENGINES)}}} DATA_DIR THREADS")
    serve(sys.argv[1], sys.argv[2], int(sys.argv[3]))


if __name__ == "__main__":
    main()
