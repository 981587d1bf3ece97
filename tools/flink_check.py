#!/usr/bin/env python3
"""Run a script from `eddy export flink-sql` on Flink and compare its rows with eddy's.

A manual tool, not part of the tests: it needs PyFlink (which bundles Flink) and Java 17:

    python3 -m venv /tmp/pyflink && /tmp/pyflink/bin/pip install apache-flink==2.3.0
    eddy export flink-sql jobs/card_velocity.json --source-path jobs/card_velocity.input.jsonl > /tmp/cv.sql
    eddy run jobs/card_velocity.json jobs/card_velocity.input.jsonl --state-backend memory > /tmp/cv.eddy.jsonl
    /tmp/pyflink/bin/python tools/flink_check.py /tmp/cv.sql /tmp/cv.eddy.jsonl

It runs every statement of the script in a local streaming TableEnvironment (parallelism 1,
a watermark after every row, so lateness is decided per row as eddy decides it), collects
the rows of the INSERT's SELECT instead of writing them to the sink, and compares them with
eddy's records: rows are matched by their key columns and time (or window), and each feature
is counted as equal (numbers within 1e-9 relative), different, or missing on one side.
"""
import json
import math
import re
import sys
from collections import Counter, defaultdict


def statements(script):
    text = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("--"))
    return [part.strip() for part in re.split(r";\s*\n", text) if part.strip()]


def flink_rows(script_path):
    # Imported here, so that bench/flink_bench.py can use this file's matching without it.
    from pyflink.table import EnvironmentSettings, TableEnvironment

    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    env.get_config().set("parallelism.default", "1")
    env.get_config().set("pipeline.auto-watermark-interval", "0")
    rows = []
    for statement in statements(open(script_path).read()):
        setting = re.fullmatch(r"SET '([^']*)' = '([^']*)'", statement)
        if setting:
            env.get_config().set(setting.group(1), setting.group(2))
        elif statement.startswith("INSERT INTO"):
            select = statement.split("\n", 1)[1]
            result = env.execute_sql(select)
            names = result.get_table_schema().get_field_names()
            with result.collect() as results:
                for row in results:
                    rows.append(dict(zip(names, [plain(value) for value in row])))
        else:
            env.execute_sql(statement)
    return rows


def plain(value):
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    return value


def same(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return {str(k): v for k, v in a.items()} == {str(k): v for k, v in b.items()}
    if isinstance(a, (int, float)) and isinstance(b, str) or isinstance(b, (int, float)) and isinstance(a, str):
        return str(a) == str(b)  # a number key is a string in Flink
    return a == b


def match_rows(eddy, flink, ident, features):
    """Rows of both sides grouped by their `ident` columns (peers in order) and each feature
    compared with `same`: the groups, per feature the counts equal, equal to the last bit and
    different, up to 3 examples of a difference each, and the rows only one side has."""
    def key(row):
        return tuple(str(row.get(c)) for c in ident)

    groups = defaultdict(lambda: ([], []))
    for row in eddy:
        groups[key(row)][0].append(row)
    for row in flink:
        groups[key(row)][1].append(row)
    equal, exact, different, examples = Counter(), Counter(), Counter(), defaultdict(list)
    only_eddy, only_flink = 0, 0
    for k, (e_rows, f_rows) in groups.items():
        only_eddy += max(0, len(e_rows) - len(f_rows))
        only_flink += max(0, len(f_rows) - len(e_rows))
        for e, f in zip(e_rows, f_rows):
            for c in features:
                if same(e.get(c), f.get(c)):
                    equal[c] += 1
                    exact[c] += e.get(c) == f.get(c) or json.dumps(e.get(c)) == json.dumps(f.get(c))
                else:
                    different[c] += 1
                    if len(examples[c]) < 3:
                        examples[c].append((k, e.get(c), f.get(c)))
    return groups, equal, exact, different, examples, only_eddy, only_flink


def main():
    script_path, eddy_path = sys.argv[1], sys.argv[2]
    flink = flink_rows(script_path)
    eddy = [json.loads(line) for line in open(eddy_path) if line.strip()]
    columns = list(eddy[0].keys()) if eddy else list(flink[0].keys())
    # Identity columns: the leading columns up to the time or window_end (keys and time).
    ident_end = columns.index("window_end") + 1 if "window_end" in columns else None
    if ident_end is None:
        time_like = [c for c in columns if c in ("ts", "event_time", "time")]
        ident_end = columns.index(time_like[0]) + 1 if time_like else 1
    ident = columns[:ident_end]
    features = [c for c in columns[ident_end:] if flink and c in flink[0]]

    groups, equal, exact, different, examples, only_eddy, only_flink = match_rows(eddy, flink, ident, features)
    print(f"rows: eddy {len(eddy)}, flink {len(flink)}; matched by {', '.join(ident)}; "
          f"only in eddy {only_eddy}, only in flink {only_flink}")
    for c in features:
        print(f"  {c}: {equal[c]} equal ({exact[c]} to the last bit), {different[c]} different")
        for k, e, f in examples[c]:
            print(f"      at {k}: eddy {json.dumps(e)}  flink {json.dumps(f)}")
    if only_eddy or only_flink:
        for k, (e_rows, f_rows) in sorted(groups.items()):
            if len(e_rows) != len(f_rows):
                print(f"  row count differs at {k}: eddy {len(e_rows)}, flink {len(f_rows)}")


if __name__ == "__main__":
    main()
