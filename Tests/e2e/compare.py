#!/usr/bin/env python3
"""Compares two JSON Lines outputs record by record: same columns in the same order, same
types (an integer is not a double), numbers equal to 1e-9 relative. Exit 0 when equal."""
import json
import math
import sys


def same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, float) and isinstance(b, float) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def main():
    actual = open(sys.argv[1]).read().splitlines()
    expected = open(sys.argv[2]).read().splitlines()
    if len(actual) != len(expected):
        print(f"{sys.argv[1]}: {len(actual)} records, expected {len(expected)}")
        return 1
    for n, (a, e) in enumerate(zip(actual, expected), 1):
        if not same(json.loads(a), json.loads(e)):
            print(f"{sys.argv[1]}:{n}: differs\n  actual:   {a}\n  expected: {e}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
