#!/usr/bin/env python3
"""Issue 11's targets from one bench_recurrence run (Google Benchmark JSON, medians of repetitions).

  forward per step, (H, B, T) = (256, 64, 200), E = 1    <= 1 us   (auto path; every path listed)
  forward per step, (512, 64, 200), E = 1                 <= 2 us
  E = 64 over E = 1 at (64, 32, 100), forward and train   <= 2x
  per-step time over the barrier floor (the auto plan's kernel, barriers only), every size
  fraction of fp32 peak of the auto forward at the largest size

All ratios come from the same run (scripts/gpu-check.sh runs one size per file, one after the
other, and passes all the files). Prints one line per target ("target: ..."); a missing
measurement (path skipped, deadline reached) is reported as such, never guessed.
Usage: recurrence_targets.py BENCH_RECURRENCE.json [MORE.json ...]
       recurrence_targets.py --per-step ONE_SIZE.json   one line: time per step of each mode and path
       recurrence_targets.py --dispatch GRID.json       the dispatch table: per size and mode, each
                                                        path's time per step, the fastest, and auto's
                                                        time over the fastest (docs/gpu-dispatch.md)
"""
import json
import sys

TARGETS_PER_STEP = [((256, 64, 200, 1), 1e-6), ((512, 64, 200, 1), 2e-6)]
ENSEMBLE = (64, 32, 100)


def load(paths):
    """{(mode, path, H, B, T, E): benchmark entry} of the medians (or plain runs) of every file."""
    runs = {}
    for path in paths:
        try:
            with open(path) as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:  # a run killed at its deadline leaves no or half a file
            print("info: %s unreadable (%s)" % (path, e))
            continue
        add_runs(doc, runs)
    return runs


def add_runs(doc, runs):
    for b in doc.get("benchmarks", []):
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        if b.get("error_occurred"):
            continue
        parts = b.get("run_name", b["name"]).split("/")
        if len(parts) < 7 or parts[1] != "cuda":
            continue
        size = tuple(int(p.split(":")[1]) for p in parts[3:7])
        runs[(parts[0].replace("recurrence_", ""), parts[2]) + size] = b


def per_step_line(runs):
    """'forward: auto 1.2 us [label], sequence ...; train: ...' for the runs of one size."""
    if not runs:
        return "no measurement"
    out = []
    for mode in ("forward", "train", "barrier_floor"):
        cells = []
        for path in ("auto", "sequence", "cta", "cluster"):
            b = next((v for k, v in runs.items() if k[0] == mode and k[1] == path), None)
            if b is not None:
                cells.append("%s %s%s" % (path, us(b.get("s_per_step")),
                                          " [%s]" % b["label"] if path == "auto" and b.get("label") else ""))
        if cells:
            out.append("%s: %s" % (mode, ", ".join(cells)))
    return "; ".join(out)


def dispatch_table(runs):
    """One line per (mode, size): every path's time per step, the fastest path and auto / fastest."""
    paths = ("sequence", "cta", "cluster")
    sizes = sorted({k[2:] for k in runs})
    lines = ["%-7s %5s %4s %4s %3s  %10s %10s %10s %10s  %-8s %6s  %s"
             % (("mode", "H", "B", "T", "E", "auto") + paths + ("fastest", "auto/f", "auto plan"))]
    worst = []
    for mode in ("forward", "train"):
        for size in sizes:
            t = {p: runs[(mode, p) + size].get("s_per_step") for p in ("auto",) + paths if (mode, p) + size in runs}
            if "auto" not in t:
                continue
            measured = {p: v for p, v in t.items() if p != "auto" and v}
            best = min(measured, key=measured.get) if measured else None
            ratio = t["auto"] / measured[best] if best else None
            if ratio is not None:
                worst.append((ratio, mode, size, best))
            lines.append("%-7s %5d %4d %4d %3d  %10s %10s %10s %10s  %-8s %6s  %s"
                         % ((mode,) + size + tuple(us(t.get(p)) for p in ("auto",) + paths)
                            + (best or "-", "-" if ratio is None else "%.2f" % ratio,
                               runs[(mode, "auto") + size].get("label", ""))))
    worst.sort(reverse=True)
    for ratio, mode, size, best in worst[:5]:
        lines.append("worst: %s at H=%d B=%d T=%d E=%d: auto %.2fx the fastest (%s)" % ((mode,) + size + (ratio, best)))
    return "\n".join(lines)


def us(seconds):
    return "-" if seconds is None else "%.3g us" % (seconds * 1e6)


def main():
    if sys.argv[1:2] == ["--per-step"]:
        print(per_step_line(load(sys.argv[2:])))
        return
    if sys.argv[1:2] == ["--dispatch"]:
        print(dispatch_table(load(sys.argv[2:])))
        return
    runs = load(sys.argv[1:])

    def get(mode, path, size, key="s_per_step"):
        b = runs.get((mode, path) + size)
        return None if b is None else b.get(key)

    def label(mode, path, size):
        b = runs.get((mode, path) + size)
        return "" if b is None else b.get("label", "")

    for size, limit in TARGETS_PER_STEP:
        t = get("forward", "auto", size)
        verdict = "missing" if t is None else ("met" if t <= limit else "MISSED")
        others = ", ".join("%s %s" % (p, us(get("forward", p, size))) for p in ("sequence", "cta", "cluster"))
        print("target: forward per step at H=%d B=%d T=%d E=%d: %s (<= %s: %s) [%s]; by path: %s"
              % (size + (us(t), us(limit), verdict, label("forward", "auto", size), others)))
        floor = get("barrier_floor", "auto", size)
        if t is not None and floor:
            print("target: forward per step over the barrier floor at H=%d B=%d: %.3gx (floor %s per step)"
                  % (size[0], size[1], t / floor, us(floor)))
        train = get("train", "auto", size)
        if train is not None:
            print("info: forward + BPTT per step at H=%d B=%d T=%d E=%d: %s [%s]"
                  % (size + (us(train), label("train", "auto", size))))
    for mode in ("forward", "train"):
        one, many = (get(mode, "auto", ENSEMBLE + (e,), "real_time") for e in (1, 64))
        if one is None or many is None:
            print("target: %s E=64 over E=1 at H=%d B=%d T=%d: missing" % ((mode,) + ENSEMBLE))
            continue
        ratio = many / one
        print("target: %s E=64 over E=1 at H=%d B=%d T=%d: %.3gx (<= 2x: %s) [E=1 %s; E=64 %s]"
              % ((mode,) + ENSEMBLE + (ratio, "met" if ratio <= 2 else "MISSED", label(mode, "auto", ENSEMBLE + (1,)),
                                       label(mode, "auto", ENSEMBLE + (64,)))))
    for e in (1, 64):
        size = ENSEMBLE + (e,)
        t, floor = get("forward", "auto", size), get("barrier_floor", "auto", size)
        if t is not None and floor:
            print("target: forward per step over the barrier floor at H=%d B=%d T=%d E=%d: %.3gx (floor %s per step)"
                  % (size + (t / floor, us(floor))))
    largest = max((k for k in runs if k[0] == "forward" and k[1] == "auto"), key=lambda k: (k[2], k[3] * k[5]),
                  default=None)
    if largest is not None:
        frac = runs[largest].get("peak_frac")
        print("target: fraction of fp32 peak, auto forward at H=%d B=%d T=%d E=%d: %s"
              % (largest[2:] + ("-" if frac is None else "%.3g" % frac,)))


if __name__ == "__main__":
    main()
