"""python3 -m bench [all|deploy|failover|reload|rolling|ssh|report] [--quick]

Measures on private docker test clusters, saves the figures as JSON, writes BENCHMARKS.md
with plots, and prints each figure beside its target. `report` only rewrites the report
from the saved JSON. `--quick` (1 run, small N; for development) writes to .bench-quick/.
"""

import argparse
import json
import os
import sys
import time

from testhosts.cluster import REPO_DIR

from . import (deploy_speed, failover_speed, machine, reload_flap, report, rolling_restart,
               targets)
from . import ssh_logins

PARTS = ("deploy", "failover", "reload", "rolling", "ssh")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", nargs="?", default="all", choices=("all", *PARTS, "report"))
    parser.add_argument("--quick", action="store_true",
                        help="1 run, N = 1 and 2, 1 failover trial, 4 reloads, 1 restart")
    parser.add_argument("--out", help="directory for BENCHMARKS.md and docs/bench/ "
                                      "(default: the repo; .bench-quick/ with --quick)")
    args = parser.parse_args(argv)
    out_dir = args.out or os.path.join(REPO_DIR, ".bench-quick" if args.quick else "")
    results_path = os.path.join(out_dir, report.PLOTS, "results.json")
    results = load(results_path)

    for part in PARTS if args.part == "all" else (args.part,) if args.part in PARTS else ():
        print(f"== {part}", flush=True)
        started = time.monotonic()
        log = lambda text: print(text, flush=True)  # noqa: E731
        if part == "deploy":
            results["deploy"] = deploy_speed.measure(
                sizes=(1, 2) if args.quick else (1, 5, 10, 20), runs=1 if args.quick else 3,
                log=log)
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
        save(results, results_path)

    path = report.write(results, out_dir)
    print_targets(results)
    print(f"\nwrote {os.path.relpath(path, REPO_DIR)} (figures: "
          f"{os.path.relpath(results_path, REPO_DIR)})")
    return 0


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
    print(f"\n{len(missed)} of {len(rows)} targets MISSED" + (": " + "; ".join(missed)
                                                               if missed else ""))


if __name__ == "__main__":
    sys.exit(main())
