"""python3 -m bench [all|deploy|failover|reload|rolling|ssh|report] [--quick] [--sizes N,N]

Measures on private docker test clusters, saves the figures as JSON, writes BENCHMARKS.md
with plots, and prints each figure beside its target. `report` only rewrites the report
from the saved JSON. `--quick` (1 run, small N; for development) writes to .bench-quick/.
`deploy --sizes 10,50` measures only those N and keeps the saved figures of the others.
"""

import argparse
import json
import os
import sys
import time

from testhosts.cluster import REPO_DIR

from . import (
    deploy_speed,
    failover_speed,
    machine,
    reload_flap,
    report,
    rolling_restart,
    ssh_logins,
    targets,
)

PARTS = ("deploy", "failover", "reload", "rolling", "ssh")
# Deploy speed: N, and how many cold / package-floor pairs and no-op rounds (the whole
# part takes about 30 minutes on 2 cores). N=10 carries the verdicts: more pairs; N=50
# gets one cold converge (no floor: the fleet size is for the no-op) and more rounds.
DEPLOY_SIZES = (1, 2, 5, 10, 20, 50)
DEPLOY_PAIRS, DEPLOY_PAIRS_AT = 2, {10: 6}
DEPLOY_ROUNDS, DEPLOY_ROUNDS_AT = 3, {50: 5}
DEPLOY_CACHED_RUNS = 2


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", nargs="?", default="all", choices=("all", *PARTS, "report"))
    parser.add_argument("--quick", action="store_true",
                        help="1 run, N = 1 and 2, 1 failover trial, 4 reloads, 1 restart")
    parser.add_argument("--sizes", help="deploy: only these N (comma-separated); the saved "
                                        "figures of other N are kept")
    parser.add_argument("--out", help="directory for BENCHMARKS.md and docs/bench/ "
                                      "(default: the repo; .bench-quick/ with --quick)")
    args = parser.parse_args(argv)
    out_dir = args.out or os.path.join(REPO_DIR, ".bench-quick" if args.quick else "")
    results_path = os.path.join(out_dir, report.PLOTS, "results.json")
    results = load(results_path)

    for part in PARTS if args.part == "all" else (args.part,) if args.part in PARTS else ():
        print(f"== {part}", flush=True)
        started, load_before = time.monotonic(), os.getloadavg()[0]
        log = lambda text: print(text, flush=True)  # noqa: E731
        if part == "deploy":
            def keep(deploy):  # after each N: a failure later loses nothing measured
                results["deploy"] = deploy
                save(results, results_path)
            results["deploy"] = measure_deploy(args, results.get("deploy"), log, keep)
        elif part == "failover":
            results["failover"] = failover_speed.measure(trials=1 if args.quick else 5, log=log)
        elif part == "reload":
            results["reload"] = reload_flap.measure(changes=4 if args.quick else 20, log=log)
        elif part == "ssh":
            results["ssh"] = ssh_logins.measure(runs=1 if args.quick else 3, log=log)
        else:
            results["rolling"] = rolling_restart.measure(restarts=1 if args.quick else 3,
                                                         log=log)
        results["machine"], results["quick"] = machine.describe(), args.quick
        results[part]["run_seconds"] = round(time.monotonic() - started)
        results[part]["measured_at"] = results["machine"]["date"]
        # (1-minute load averages: how busy the machine was with other work too)
        results[part]["load_average"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
        save(results, results_path)

    path = report.write(results, out_dir)
    print_targets(results)
    print(f"\nwrote {os.path.relpath(path, REPO_DIR)} (figures: "
          f"{os.path.relpath(results_path, REPO_DIR)})")
    return 0


def measure_deploy(args, saved, log, keep=lambda deploy: None):
    """The deploy-speed part as the options ask: with --sizes, merged into `saved`.
    `keep(figures)` is called after each N with the figures so far."""
    def merged(measured):
        if not args.sizes or not saved:
            return measured
        return {**saved, **{key: value for key, value in measured.items() if key != "sizes"},
                "sizes": {**saved.get("sizes", {}), **measured["sizes"]}}

    if args.quick:
        return deploy_speed.measure(sizes=(1, 2), pairs=1, rounds=1, cached_runs=1, log=log)
    sizes = tuple(int(n) for n in args.sizes.split(",")) if args.sizes else DEPLOY_SIZES
    return merged(deploy_speed.measure(
        sizes=sizes, pairs=DEPLOY_PAIRS, pairs_at=DEPLOY_PAIRS_AT, rounds=DEPLOY_ROUNDS,
        rounds_at=DEPLOY_ROUNDS_AT,
        cached_runs=DEPLOY_CACHED_RUNS if deploy_speed.CACHED_SIZE in sizes else 0,
        log=log, progress=lambda so_far: keep(merged(so_far))))


def load(path):
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def save(results, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(results, f, indent=1)


def print_targets(results):
    rows = targets.rows(results)
    width = max(len(figure) for figure, *_ in rows)
    print()
    for figure, measured, target, verdict in rows:
        print(f"{figure:<{width}}  {measured:>12}  target {target:<44} {verdict}")
    missed = [figure for figure, *_, verdict in rows if verdict == targets.MISSED]
    inconclusive = sum(verdict == targets.INCONCLUSIVE for *_, verdict in rows)
    print(f"\n{len(missed)} of {len(rows)} targets MISSED" + (": " + "; ".join(missed)
                                                               if missed else "")
          + (f"; {inconclusive} inconclusive" if inconclusive else ""))
    sizes = (results.get("deploy") or {}).get("sizes", {})
    for count, *cells in report.cpu_rows(sizes):
        print(f"CPU ms per host, controller / test hosts, N={count}: " + ", ".join(
            f"{name} {cell}" for (name, _), cell in zip(targets.CPU_RUNS, cells)))
    if report.cpu_sentence(sizes):
        print(report.cpu_sentence(sizes))


if __name__ == "__main__":
    sys.exit(main())
