#!/usr/bin/env python3
"""An independent, deliberately naive model of eddy's event-mode semantics.

It recomputes every feature from the key's full history for every event (quadratic, fine
for test data), so it shares no algorithm with eddy's incremental states: the end-to-end
tests compare the two. Usage: reference.py JOB INPUT [--format jsonl|csv] > expected.jsonl
Prints one JSON object per emitted event; stderr gets "read emitted late rejected".
"""
import argparse
import csv
import datetime
import json
import math
import re
import sys

UNITS = {"us": 1, "ms": 1000, "s": 1000000, "m": 60000000, "h": 3600000000, "d": 86400000000, "w": 604800000000}
NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")
INTEGER = re.compile(r"-?(0|[1-9][0-9]*)$")


def duration(text):
    total, pos = 0, 0
    for m in re.finditer(r"([0-9]+)(us|ms|s|m|h|d|w)", text):
        assert m.start() == pos, text
        total += int(m.group(1)) * UNITS[m.group(2)]
        pos = m.end()
    assert pos == len(text), text
    return total


def number_value(text):
    """(python value, is_integer) for a JSON number's text."""
    if INTEGER.match(text) and -2**63 <= int(text) < 2**63:
        return int(text)
    return float(text)


class Missing:
    pass


MISSING = Missing()


def typed_csv(cell):
    if cell == "":
        return None
    if NUMBER.match(cell):
        return number_value(cell)
    return cell


def read_records(path, fmt):
    """Yields (line_text, dict or None) per non-blank record."""
    with open(path, encoding="utf-8", newline="") as f:
        if fmt == "csv":
            rows = list(csv.reader(f))
            header = rows[0]
            for row in rows[1:]:
                if not row:
                    continue
                if len(row) != len(header):
                    yield (",".join(row), None)
                else:
                    yield (",".join(row), {h: typed_csv(c) for h, c in zip(header, row)})
        else:
            for line in f:
                line = line.rstrip("\n").rstrip("\r")
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line, parse_int=number_value, parse_float=number_value,
                                     object_pairs_hook=dict)
                except ValueError:
                    yield (line, None)
                    continue
                yield (line, obj if isinstance(obj, dict) else None)


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def event_time(v, unit):
    if is_number(v):
        if isinstance(v, int):
            return v * unit
        return math.floor(v * unit)
    if isinstance(v, str):
        try:
            dt = datetime.datetime.fromisoformat(v.replace("z", "Z").replace("Z", "+00:00"))
        except ValueError:
            return None
        if dt.tzinfo is None:
            return None
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        return (dt - epoch) // datetime.timedelta(microseconds=1)
    return None


def canonical(v):
    """eddy's canonical JSON text of a value (distinct counts and histograms compare it)."""
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def feature_value(feature, history, t):
    """history: list of (time, seq, record) applied to the key, all with time <= t."""
    window = feature.get("window")
    lo = t - duration(window) if window else -math.inf
    field = feature.get("field")
    op = feature["operator"]
    rows = [r for (time, seq, r) in sorted(history, key=lambda h: (h[0], h[1])) if time >= lo]
    if op == "count" and field is None:
        return len(rows)
    values = [r.get(field) for r in rows]
    values = [v for v in values if v is not None]
    if op == "count":
        return len(values)
    if op == "count_distinct":
        return len({canonical(v) for v in values})
    if not values:
        return None
    if op == "first":
        return values[0]
    if op == "last":
        return values[-1]
    if op == "collect":
        limit = feature.get("limit")
        return values[-limit:] if limit else values
    if op == "histogram":
        counts = {}  # buckets are named by the value's string form, sorted by code point
        for v in values:
            name = v if isinstance(v, str) else canonical(v)
            counts[name] = counts.get(name, 0) + 1
        return dict(sorted(counts.items()))
    if op == "sum":
        if all(isinstance(v, int) for v in values):
            return sum(values)
        return math.fsum(values)
    if op == "avg":
        return math.fsum(values) / len(values)
    if op == "min":
        return min(values)
    if op == "max":
        return max(values)
    if op == "stddev":
        if len(values) < 2:
            return None
        mean = math.fsum(values) / len(values)
        return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))
    raise ValueError(op)


NUMERIC = {"sum", "min", "max", "avg", "stddev"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("job")
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--format")
    ap.add_argument("--broadcast", action="append", default=[], help="NAME=FILE, a side input for lookups")
    a = ap.parse_args()
    tables = {}
    for option in a.broadcast:
        name, path = option.split("=", 1)
        tables[name] = [rec for _, rec in read_records(path, "csv" if path.endswith(".csv") else "jsonl")]

    def lookup(f, rec):
        """The column of the first side row whose key column's string form equals the field's."""
        v = rec.get(f["field"])
        if v is None:
            return None
        form = lambda x: x if isinstance(x, str) else canonical(x)
        for row in tables[f["from"]]:
            key = row.get(f.get("key", f["field"]))
            if key is not None and form(key) == form(v):
                return row.get(f["column"])
        return None

    spec = json.load(open(a.job))
    keys, time_col = spec["keys"], spec.get("time")
    unit = {"s": 1000000, "ms": 1000, "us": 1}[spec.get("timeUnit", "ms")]
    bound = duration(spec.get("watermark", "0s"))
    features = spec["dict"]
    carry = spec.get("carry", [])
    numeric_fields = {f["field"] for f in features if f["operator"] in NUMERIC}
    counts = {"read": 0, "emitted": 0, "late": 0, "rejected": 0}
    histories = {}
    pending = []
    out = sys.stdout

    def emit(rec, t):
        key = tuple(canonical(rec[k]) for k in keys)
        o = {k: rec[k] for k in keys}
        if time_col:
            o[time_col] = rec[time_col]
        if carry == ["*"]:
            for name, v in rec.items():
                if name not in o and name not in {f["name"] for f in features}:
                    o[name] = v
        else:
            for c in carry:
                o[c] = rec.get(c)
        for f in features:
            o[f["name"]] = lookup(f, rec) if f["operator"] == "lookup" else feature_value(f, histories[key], t)
        out.write(json.dumps(o, ensure_ascii=False) + "\n")
        counts["emitted"] += 1

    def release(wm):
        pending.sort(key=lambda p: (p[0], p[1]))
        while pending and pending[0][0] <= wm:
            t = pending[0][0]
            batch = []
            while pending and pending[0][0] == t:
                batch.append(pending.pop(0))
            for (_, seq, rec) in batch:
                history = histories.setdefault(tuple(canonical(rec[k]) for k in keys), [])
                if ttl is not None and history and t - max(h[0] for h in history) > ttl:
                    history.clear()  # not updated for the TTL: the key starts over
                history.append((t, seq, rec))
            for (_, _, rec) in batch:
                emit(rec, t)

    ttl = duration(spec["ttl"]) if "ttl" in spec else None
    emit_mode = spec.get("emit", "event")
    windows = None  # (size, slide) in microseconds for windowed jobs
    if isinstance(emit_mode, dict):
        if "tumbling" in emit_mode:
            windows = (duration(emit_mode["tumbling"]),) * 2
        elif "hopping" in emit_mode:
            windows = (duration(emit_mode["hopping"]["size"]), duration(emit_mode["hopping"]["slide"]))
    window_events = {}  # (window end, key) -> [(t, seq, rec)]
    gap = duration(emit_mode["session"]["gap"]) if isinstance(emit_mode, dict) and "session" in emit_mode else None
    sessions = {}  # key -> open sessions, each a time-ordered list of (t, seq, rec), disjoint
    fired = []  # (close, key, events)

    def reaches(t, session):
        return session[0][0] - gap <= t <= session[-1][0] + gap

    def session_add(key, event):
        kept, joined = [], [event]
        for session in sessions.get(key, []):
            if reaches(event[0], session):
                joined += session
            else:
                kept.append(session)
        kept.append(sorted(joined, key=lambda e: (e[0], e[1])))
        sessions[key] = sorted(kept, key=lambda s: s[0][0])

    def session_release(wm):
        pending.sort(key=lambda p: (p[0], p[1]))
        while pending and pending[0][0] <= wm:
            t, sq, rec = pending.pop(0)
            session_add(tuple(canonical(rec[k]) for k in keys), (t, sq, rec))
        for key in list(sessions):
            still_open = []
            for session in sessions[key]:
                if session[-1][0] + gap <= wm:
                    fired.append((session[-1][0] + gap, key, session))
                else:
                    still_open.append(session)
            sessions[key] = still_open

    def window_starts(t):
        size, slide = windows
        newest = (t // slide) * slide
        return [newest - k * slide for k in range(size // slide - 1, -1, -1)]

    wm, max_t, seq = -math.inf, -math.inf, 0
    for path in a.inputs:
        fmt = a.format or ("csv" if path.endswith(".csv") else "jsonl")
        for line, rec in read_records(path, fmt):
            counts["read"] += 1
            seq += 1
            if rec is None or any(not (isinstance(rec.get(k), str) or is_number(rec.get(k))) for k in keys) \
                    or any(f in rec and rec[f] is not None and not is_number(rec[f]) for f in numeric_fields):
                counts["rejected"] += 1
                continue
            if not time_col:
                histories.setdefault(tuple(canonical(rec[k]) for k in keys), []).append((0, seq, rec))
                emit(rec, 0)
                continue
            t = event_time(rec.get(time_col), unit)
            if t is None:
                counts["rejected"] += 1
                continue
            if gap is not None:
                key = tuple(canonical(rec[k]) for k in keys)
                if t > wm:
                    pending.append((t, seq, rec))
                    counts["emitted"] += 1
                    if t > max_t:
                        max_t = t
                        wm = max(wm, max_t - bound - 1)
                    session_release(wm)
                    continue
                session_release(wm)
                if t + gap > wm or any(reaches(t, s) for s in sessions.get(key, [])):
                    session_add(key, (t, seq, rec))
                    counts["emitted"] += 1
                else:
                    counts["late"] += 1
                continue
            if windows:
                open_starts = [s for s in window_starts(t) if s + windows[0] - 1 > wm]
                if not open_starts:
                    counts["late"] += 1
                    continue
                for s in open_starts:
                    window_events.setdefault((s + windows[0], tuple(canonical(rec[k]) for k in keys)), []).append((t, seq, rec))
                counts["emitted"] += 1
                if t > max_t:
                    max_t = t
                    wm = max(wm, max_t - bound - 1)
                continue
            if t <= wm:
                counts["late"] += 1
                continue
            pending.append((t, seq, rec))
            if t > max_t:
                max_t = t
                wm = max(wm, max_t - bound - 1)
                release(wm)
    if gap is not None:
        session_release(math.inf)
        for close, key, events in sorted(fired, key=lambda f: (f[0], "\x1f".join(f[1]).encode("utf-8"))):
            rec = events[0][2]
            o = {k: rec[k] for k in keys}
            o["window_start"] = events[0][0] // unit
            o["window_end"] = close // unit
            for f in features:
                o[f["name"]] = feature_value(f, events, math.inf)
            out.write(json.dumps(o, ensure_ascii=False) + "\n")
    release(math.inf)
    if windows:
        order = sorted(window_events, key=lambda w: (w[0], "\x1f".join(w[1]).encode("utf-8")))
        for end, key in order:
            events = window_events[(end, key)]
            rec = events[0][2]
            o = {k: rec[k] for k in keys}
            o["window_start"] = (end - windows[0]) // unit
            o["window_end"] = end // unit
            for f in features:
                o[f["name"]] = feature_value(f, events, math.inf)
            out.write(json.dumps(o, ensure_ascii=False) + "\n")
    print(f"{counts['read']} {counts['emitted']} {counts['late']} {counts['rejected']}", file=sys.stderr)


if __name__ == "__main__":
    main()
