#!/usr/bin/env python3
# A copy of ../shared/bench/gen_events.py, so that the tests need nothing outside this
# repository; make bench uses the shared one, so that figures compare across sessions.
"""Deterministic card-transaction event generator for the peer benchmark.

One event per line (JSON Lines by default, or CSV with a header):
  card_id   string "c000123"      K distinct values, mild skew (low ids are hotter)
  merchant  string "m01234"       ~5000 distinct values, mild skew
  country   2-letter code         20 distinct values
  amount    double, 2 decimals    log-normal-ish, 0.50 .. ~5000
  ts        epoch milliseconds    event i has nominal time BASE + i*1000/rate ms
                                  (default rate 1000 events per simulated second),
                                  then is jittered BACK by uniform 0..D ms, so the
                                  stream is out of order by at most D ms.

Same arguments -> byte-identical output (Python's random.Random is stable
across versions for random(), randrange() and the arithmetic used here).
"""
import argparse
import math
import random
import sys

BASE_TS_MS = 1_700_000_000_000  # 2023-11-14T22:13:20Z, fixed for determinism
COUNTRIES = ["US", "GB", "DE", "FR", "NL", "ES", "IT", "SE", "NO", "DK",
             "PL", "CH", "AT", "BE", "IE", "PT", "CA", "AU", "JP", "BR"]
N_MERCHANTS = 5000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=10_000, help="number of events")
    ap.add_argument("--keys", type=int, default=500, help="number of distinct card_id values")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out-of-order-ms", type=int, default=5000,
                    help="max backwards jitter D applied to each ts (ms)")
    ap.add_argument("--rate", type=int, default=1000,
                    help="events per simulated second (default 1000)")
    ap.add_argument("--skew", type=float, default=2.0,
                    help="key skew exponent: key = floor(K * u**skew); 1.0 = uniform")
    ap.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    ap.add_argument("--out", default="-", help="output file (default stdout)")
    a = ap.parse_args()

    rnd = random.Random(a.seed)
    r = rnd.random
    K, D, skew = a.keys, a.out_of_order_ms, a.skew
    width = max(6, len(str(K - 1)))
    cards = [f"c{i:0{width}d}" for i in range(K)]
    merchants = [f"m{i:05d}" for i in range(N_MERCHANTS)]
    step_ms = 1000.0 / a.rate
    jsonl = a.format == "jsonl"

    out = sys.stdout if a.out == "-" else open(a.out, "w", encoding="ascii", newline="\n")
    buf = []
    if not jsonl:
        buf.append("card_id,merchant,country,amount,ts\n")
    for i in range(a.events):
        card = cards[min(K - 1, int(K * (r() ** skew)))]
        merchant = merchants[min(N_MERCHANTS - 1, int(N_MERCHANTS * (r() ** 1.5)))]
        country = COUNTRIES[min(19, int(20 * (r() ** 2)))]
        # log-normal amount, median ~20, clipped to [0.50, 5000]
        amount = math.exp(3.0 + 1.1 * (r() + r() + r() + r() - 2.0) * 1.2)
        amount = min(5000.0, max(0.5, amount))
        ts = BASE_TS_MS + int(i * step_ms) - (int(r() * (D + 1)) if D > 0 else 0)
        if jsonl:
            buf.append(f'{{"card_id":"{card}","merchant":"{merchant}","country":"{country}",'
                       f'"amount":{amount:.2f},"ts":{ts}}}\n')
        else:
            buf.append(f"{card},{merchant},{country},{amount:.2f},{ts}\n")
        if len(buf) >= 20000:
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf))
    if out is not sys.stdout:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
