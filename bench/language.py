"""Language benchmarks: parsing speed, and a compute loop against the same loop in CPython.

Prints ratios measured in one run (the machines are shared and noisy); see bench/README.md.
Usage: python bench/language.py [--quick]
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

from gb_basic import Machine, compile_source, parse

COMPUTE_BAS = """
total = 0
chars = 0
FOR EACH x IN items
  IF x MOD 3 = 0 THEN
    IF x MOD 5 = 0 THEN
      total = total + x * 2
    ELSE
      total = total + x
    END IF
  ELSE
    line = "item " + x + ": " + label
    chars = chars + LEN(line)
  END IF
NEXT
"""


def compute_py(items: list[int], label: str) -> tuple[int, int]:
    """The same loop, written the way a Python programmer would."""
    total = 0
    chars = 0
    for x in items:
        if x % 3 == 0:
            if x % 5 == 0:
                total = total + x * 2
            else:
                total = total + x
        else:
            line = "item " + str(x) + ": " + label
            chars = chars + len(line)
    return total, chars


# One "screen" of a typical dialog; the parse benchmark repeats it with fresh names.
DIALOG = '''
' Support dialog {i}: greet, ask, route.
PARAM topic{i} AS STRING LIKE "billing" DESCRIPTION "What the user needs help with"
session_id = GET "session.id"
last_visit = GET_BOT_MEMORY("last_visit_" + session_id)
if last_visit
  TALK "Welcome back! Last seen: " + last_visit
else
  TALK "Welcome! First time here?"
end

HEAR name{i} AS NAME WITH "What is your name?"
SET user_name = name{i}
HEAR choice{i} AS "Billing", "Technical", "Other" WITH "Hi {{name{i}}}, how can I help?"
SELECT CASE choice{i}
  CASE "Billing"
    USE KB "billing"
    TALK "I can help with invoices and payments."
  CASE "Technical"
    USE KB "tech"
    HEAR device{i} AS "Phone", "Laptop"
  CASE ELSE
    TALK "Tell me more."
END SELECT

total{i} = 0
FOR i = 1 TO 10
  IF i MOD 2 = 0 THEN
    total{i} = total{i} + i * 2
  ELSE
    total{i} = total{i} - 1
  END IF
NEXT i
msg_count = GET "session.message_count"
IF msg_count < 3 THEN TALK "I can help with basic questions" ELSE TALK "Try our advanced features!"
FUNCTION Score{i}(a, b)
  Score{i} = (a * 2 + b) / 3
END FUNCTION
'''


def best_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_parse(lines_wanted: int, repeat: int) -> tuple[int, float]:
    chunks, n, i = [], 0, 0
    while n < lines_wanted:
        chunk = DIALOG.format(i=i)
        chunks.append(chunk)
        n += chunk.count("\n")
        i += 1
    source = "".join(chunks)
    lines = source.count("\n")
    t = best_of(lambda: parse(source, "big.bas"), repeat)
    return lines, lines / t


def bench_compute(n: int, repeat: int) -> tuple[float, float]:
    items = list(range(n))
    label = "ok"
    program = compile_source(COMPUTE_BAS, "compute.bas")
    expected = compute_py(items, label)

    def run_basic() -> object:
        result = Machine(program, max_steps=50 * n).start(variables={"items": items, "label": label})
        return result.variables["total"], result.variables["chars"]  # type: ignore[union-attr]

    assert run_basic() == expected, "the BASIC loop computes something else"

    t_py = best_of(lambda: compute_py(items, label), repeat)
    t_bas = best_of(run_basic, repeat)
    return t_py, t_bas


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    args = ap.parse_args()
    lines_wanted, n, repeat = (5_000, 20_000, 3) if args.quick else (50_000, 200_000, 7)

    lines, rate = bench_parse(lines_wanted, repeat)
    print(f"parse: {lines:,} lines, {rate:,.0f} lines/s (target >= 50,000) "
          f"-> {'OK' if rate >= 50_000 else 'BELOW TARGET'}")

    t_py, t_bas = bench_compute(n, repeat)
    ratio = t_bas / t_py
    print(f"compute loop, {n:,} items: CPython {t_py * 1e3:.1f} ms, gb BASIC {t_bas * 1e3:.1f} ms, "
          f"ratio {ratio:.2f}x (target <= 3x) -> {'OK' if ratio <= 3 else 'ABOVE TARGET'}")
    print(f"summary: parse_lines_per_s={rate:.0f} compute_ratio={ratio:.2f} (best of {repeat} runs each)")


if __name__ == "__main__":
    main()
