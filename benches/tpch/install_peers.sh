#!/usr/bin/env bash
# Installs the peer engines of the TPC-H runner (DuckDB, DataFusion, Polars,
# PySpark) into a virtualenv, by default target/tpch-peers-venv (under
# target/, so it is never committed and `cargo clean` removes it).
#
#   benches/tpch/install_peers.sh            # pinned versions (requirements.txt)
#   benches/tpch/install_peers.sh --latest   # newest versions, then re-pin
#   VENV=/some/dir benches/tpch/install_peers.sh
#
# Spark also needs a Java 17+ runtime as `java` on PATH (not installed here).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
crate="$(cd "$here/../.." && pwd)"
venv="${VENV:-$crate/target/tpch-peers-venv}"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
if [ "${1:-}" = "--latest" ]; then
  "$venv/bin/python" -m pip install --upgrade duckdb datafusion polars pyspark pyarrow
  "$venv/bin/python" -m pip freeze \
    | grep -iE '^(duckdb|datafusion|polars|polars-runtime-[0-9]+|pyspark|pyarrow|py4j)==' >"$here/requirements.txt"
  echo "pinned into $here/requirements.txt"
else
  "$venv/bin/python" -m pip install -r "$here/requirements.txt"
fi
"$venv/bin/python" "$here/peer.py" --versions
if ! command -v java >/dev/null; then
  echo "note: no java on PATH; the spark peer will report itself as absent" >&2
fi
echo "peers installed in $venv (python: $venv/bin/python)"
