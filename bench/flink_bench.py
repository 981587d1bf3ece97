#!/usr/bin/env python3
"""Time one script from `eddy export flink-sql` on PyFlink's local mini-cluster (make bench-flink).

    PYTHON bench/flink_bench.py SCRIPT --state-backend hashmap|rocksdb [--checkpoint-interval 10s]
    PYTHON bench/flink_bench.py compare EDDY_OUTPUT FLINK_SINK_DIR [--sample-every N]

Runs every statement of SCRIPT in a streaming TableEnvironment with parallelism 1 and one task
slot, submits the INSERT (whose sink is the script's own: a filesystem JSON sink from
`--sink-path`), waits for the job to finish and prints one JSON line to stdout:

    jvm_start_s     creating the TableEnvironment: the JVM and its gateway (Flink's fixed cost)
    setup_s         the DDL statements and planning up to the job's submission
    submit_to_end_s from submitting the INSERT to the job's end, as the caller waits for it
                    (includes the mini-cluster's start and the job's deployment)
    net_runtime_s   the job's own runtime as Flink reports it (JobExecutionResult.getNetRuntime:
                    from the job's start to its end, cluster start excluded)
    java_peak_rss_mb, python_peak_rss_mb
                    VmHWM of the JVM and of this process, read from /proc just before exit

Watermarks are Flink's normal periodic ones (pipeline.auto-watermark-interval left at its
200 ms default), not one per row as tools/flink_check.py sets for exact lateness: this times
Flink as it runs. Checkpointing is off unless --checkpoint-interval is given: the exported
script's `SET 'execution.checkpointing.interval'` (there for the file sink, which otherwise
commits its files only at the end of a bounded input) is dropped, so neither state backend
snapshots during the run; with RocksDB, incremental checkpoints stay at Flink's default (off).
"""
import argparse
import json
import os
import re
import sys
import time


# The exported script's statements and the row matching, as tools/flink_check.py reads them.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from flink_check import match_rows, statements  # noqa: E402


def peak_rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def descendants(pid):
    """Every process below pid: the gateway JVM is started by a shell script, not by us directly."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # The parent pid is the second field after the command name in parentheses.
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, pending = [], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def command_name(pid):
    try:
        with open(f"/proc/{pid}/comm") as comm:
            return comm.read().strip()
    except OSError:
        return ""


def load_rows(path, keep):
    files = [os.path.join(path, name) for name in sorted(os.listdir(path))] if os.path.isdir(path) else [path]
    count, rows = 0, []
    for name in files:
        if os.path.basename(name).startswith("."):
            continue  # an in-progress part file of the sink, not committed output
        with open(name) as lines:
            for line in lines:
                if line.strip():
                    count += 1
                    row = json.loads(line)
                    if keep(row):
                        rows.append(row)
    return count, rows


def compare(argv):
    """Row counts of both outputs, and every feature of a sample of keys, matched as
    tools/flink_check.py matches them (by key and time, peers in order) and compared with its
    `same` (numbers within 1e-9 relative, a number key equal to its text)."""
    parser = argparse.ArgumentParser(prog="flink_bench.py compare")
    parser.add_argument("eddy_output")
    parser.add_argument("flink_sink_dir")
    parser.add_argument("--sample-every", type=int, default=20,
                        help="compare the keys whose hash modulo N is 0 (default 20: ~5%% of keys)")
    args = parser.parse_args(argv)
    import zlib

    def sampled(row):
        # crc32, not hash(): the same keys on both sides and in every run.
        return zlib.crc32(str(next(iter(row.values()))).encode()) % args.sample_every == 0

    eddy_count, eddy = load_rows(args.eddy_output, sampled)
    flink_count, flink = load_rows(args.flink_sink_dir, sampled)
    columns = list(eddy[0].keys()) if eddy else list(flink[0].keys()) if flink else []
    ident, features = columns[:2], columns[2:]  # the key and the event time, then the features
    _, equal, _, different, examples, only_eddy, only_flink = match_rows(eddy, flink, ident, features)
    print(f"rows: eddy {eddy_count}, flink {flink_count}; sample (1 key in {args.sample_every}): "
          f"eddy {len(eddy)}, flink {len(flink)} rows, matched by {', '.join(ident)}; "
          f"only in eddy {only_eddy}, only in flink {only_flink}")
    for c in features:
        print(f"  {c}: {equal[c]} equal, {different[c]} different")
        for key, e, f in examples[c]:
            print(f"      at {key}: eddy {json.dumps(e)}  flink {json.dumps(f)}")


def main():
    if sys.argv[1:2] == ["compare"]:
        return compare(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("script")
    parser.add_argument("--state-backend", choices=["hashmap", "rocksdb"], required=True)
    parser.add_argument("--checkpoint-interval", help="e.g. 10s; default: no checkpoints")
    parser.add_argument("--checkpoint-dir", help="file:// URI for checkpoints (with --checkpoint-interval)")
    args = parser.parse_args()

    started = time.monotonic()
    from pyflink.table import EnvironmentSettings, TableEnvironment

    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    jvm_ready = time.monotonic()
    config = env.get_config()
    config.set("parallelism.default", "1")
    config.set("taskmanager.numberOfTaskSlots", "1")
    config.set("state.backend.type", args.state_backend)
    if args.checkpoint_interval:
        config.set("execution.checkpointing.interval", args.checkpoint_interval)
        if args.checkpoint_dir:
            config.set("execution.checkpointing.dir", args.checkpoint_dir)

    result = None
    for statement in statements(open(args.script).read()):
        setting = re.fullmatch(r"SET '([^']*)' = '([^']*)'", statement)
        if setting:
            if setting.group(1) == "execution.checkpointing.interval":
                continue  # decided by --checkpoint-interval above, not by the script
            config.set(setting.group(1), setting.group(2))
        elif statement.startswith("INSERT INTO"):
            submitted = time.monotonic()
            result = env.execute_sql(statement)
        else:
            env.execute_sql(statement)
    if result is None:
        sys.exit(f"{args.script}: no INSERT INTO statement to run")
    job = result.get_job_client().get_job_execution_result().result()
    ended = time.monotonic()

    java = [pid for pid in descendants(os.getpid()) if command_name(pid) == "java"]
    print(json.dumps({
        "state_backend": args.state_backend,
        "checkpoint_interval": args.checkpoint_interval or "off",
        "jvm_start_s": round(jvm_ready - started, 3),
        "setup_s": round(submitted - jvm_ready, 3),
        "submit_to_end_s": round(ended - submitted, 3),
        "net_runtime_s": job.get_net_runtime() / 1000,
        "java_peak_rss_mb": round(sum(peak_rss_mb(pid) for pid in java)),
        "python_peak_rss_mb": round(peak_rss_mb(os.getpid())),
    }), flush=True)


if __name__ == "__main__":
    main()
