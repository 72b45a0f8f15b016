"""The targets of issues 5 and 13, evaluated on a results dict (pure: unit-tested).

Each row: figure, measured value (text), target (text), and a verdict: "met", "MISSED",
"inconclusive" (deploy speed: the limit lies inside the figure's uncertainty, below), or
"not measured" (a quick run skips N = 10 and 20, for example).

Deploy speed (issue 13) is judged as ratios to floors measured beside it, which no
deploy can beat on the same hosts at the same moment: the cold converge against the
package floor (deploy.py's own package command, alone, on fresh hosts), the no-op
against the probe floor (deploy.py's one fact, alone), and the no-op's growth per host
against the connect floor's (pyinfra's SSH connection and sudo). Absolute times depend on
the machine (a cold converge is mostly apt on hosts that share the controller's cores):
they are in the report's tables, not judged.

Verdicts on 4 to 12 pairs must not over-read noise, so each ratio carries an interval and
the verdict is "met" only when all of it is within the limit, "MISSED" only when all of it
is beyond, else "inconclusive". For the floor ratios, the interval is the sign test's
distribution-free confidence interval of the median of the per-pair ratios
(stats.median_interval: from the k-th smallest to the k-th largest ratio, with the
largest k that holds the true median at least 90 % of the time; up to 7 pairs, the
smallest to the largest ratio, which holds it 1 - 2 / 2^n of the time: 87.5 % with 4,
97 % with 6); fewer than 2 pairs give no interval: inconclusive. For the slope ratio, each slope
(no-op's, connect floor's) spans +/- SLOPE_ERRORS standard errors of its least-squares
fit over all runs (stats.slope_error), and the ratio's interval runs from the lowest to
the highest quotient of the two spans (unbounded above when the floor's span reaches 0).

CPU seconds per host (controller, test hosts) are figures, not verdicts.
"""

from .stats import (
    fit_line,
    median,
    median_interval,
    pair_ratio,
    pair_ratios,
    slope_error,
)

MET, MISSED, INCONCLUSIVE, NOT_MEASURED = "met", "MISSED", "inconclusive", "not measured"

# Quoted from issue 5, NOT measured here: (what, hosts, cold s, no-op s).
REFERENCES = [
    ("Ansible role (10 forks, pipelining)", 2, 14.5, 5.4),
    ("Ansible role (10 forks, pipelining)", 10, 64.0, 24.0),
    ("straightforward pyinfra deploy", 10, 30.0, 2.9),
    ("straightforward pyinfra deploy", 20, 62.0, 5.1),
]

# The floors under deploy.py's no-op (bench/deploy_speed.py BOUNDS), as named in reports.
BOUND_NAMES = [("connect and sudo only", "noop_connect"), ("probe only", "noop_probe")]

# Issue 13's targets: at N=VERDICT_SIZE, each run over the floor run paired with it
# (median of the pairs) at most FLOOR_LIMIT; the no-op's least-squares seconds per host
# (over every N measured) at most SLOPE_LIMIT times the connect floor's.
VERDICT_SIZE = 10
FLOOR_LIMIT = 1.05
SLOPE_LIMIT = 1.2
SLOPE_ERRORS = 2  # standard errors either side of a slope (about 95 % each, if normal)
# (run key, floor key, figure name)
FLOOR_PAIRS = [("cold", "package", "cold converge / package floor"),
               ("noop", "noop_probe", "no-op / probe floor")]
# The runs whose CPU is recorded, as named in logs and reports: (name, results key)
CPU_RUNS = [("connect", "noop_connect"), ("probe", "noop_probe"), ("no-op", "noop"),
            ("package", "package"), ("cold", "cold")]


def floor_ratio(size, key, floor_key):
    """Median over the pairs of run / floor run (None when not measured)."""
    return pair_ratio((size or {}).get(key), (size or {}).get(floor_key))


def floor_interval(size, key, floor_key):
    """stats.median_interval of the per-pair ratios run / floor run: (low, high, how often
    it holds the median), or None with fewer than 2 pairs."""
    return median_interval(pair_ratios((size or {}).get(key), (size or {}).get(floor_key)))


def _points(sizes, values):
    """[(N, value)] of every value `values(size)` lists at each N (None values left out)."""
    return [(int(count), value) for count, size in sizes.items()
            for value in values(size) or () if value is not None]


def fit(sizes, key):
    """(intercept s, slope s/host, r squared) of every run under `key` against N, or None
    with fewer than two N."""
    return fit_line(_runs(sizes, key))


def _runs(sizes, key):
    """[(N, seconds)] of every run under `key`."""
    return _points(sizes, lambda size: size.get(key))


def slope_interval(sizes):
    """(low, high) of the no-op's slope over the connect floor's, each slope +/-
    SLOPE_ERRORS standard errors (high is infinite when the floor's span reaches 0), or
    None without a standard error of each."""
    ends = []
    for key in ("noop", "noop_connect"):
        line = fit(sizes, key)
        error = slope_error(_runs(sizes, key))
        if error is None:
            return None
        ends.append((line[1] - SLOPE_ERRORS * error, line[1] + SLOPE_ERRORS * error))
    (noop_low, noop_high), (floor_low, floor_high) = ends
    if floor_high <= 0:
        return None
    low = noop_low / floor_high if noop_low > 0 else 0.0
    return low, noop_high / floor_low if floor_low > 0 else float("inf")


def judged(interval, limit):
    """The verdict of a figure whose uncertainty is `interval` (low, high, ...) against
    an upper `limit`: met when all of it is within, MISSED when all of it beyond, else
    (also without an interval) inconclusive."""
    if interval is None:
        return INCONCLUSIVE
    return MET if interval[1] <= limit else MISSED if interval[0] > limit else INCONCLUSIVE


def slope_ratio(sizes):
    """(no-op slope / connect floor's slope, no-op slope, floor slope); None parts when
    not measured at two N or more (the ratio also when the floor's slope is not above 0)."""
    noop, floor = fit(sizes, "noop"), fit(sizes, "noop_connect")
    noop_slope, floor_slope = noop and noop[1], floor and floor[1]
    # (a floor that does not grow with N, in noise over too few N, gives no ratio)
    ratio = (noop_slope / floor_slope if noop_slope is not None and floor_slope
             and floor_slope > 0 else None)
    return ratio, noop_slope, floor_slope


def reference_ratios(sizes):
    """Per quoted reference: (what, hosts, quoted cold, quoted no-op, this deploy's median
    cold / quoted cold, this deploy's median no-op / quoted no-op); a ratio is None where
    this deploy was not measured at that N."""
    rows = []
    for what, hosts, cold, noop in REFERENCES:
        size = sizes.get(str(hosts), {})
        ours = [median(size.get(key) or []) for key in ("cold", "noop")]
        rows.append((what, hosts, cold, noop,
                     *[None if mine is None else mine / quoted
                       for mine, quoted in zip(ours, (cold, noop))]))
    return rows


def noop_ratio(sizes, key):
    """Median time at N=20 over median time at N=5 of the runs under `key` (None when
    either was not measured)."""
    at5, at20 = (sizes.get(str(count), {}).get(key) for count in (5, 20))
    return median(at20) / median(at5) if at5 and at20 else None


def floor_ratios(sizes):
    """[(name, N=20 / N=5 ratio or None)] of each floor under deploy.py's no-op."""
    return [(what, noop_ratio(sizes, key)) for what, key in BOUND_NAMES]


def ratios_text(named_ratios):
    """"connect and sudo only 1.45x, probe only 1.70x" ("-" for a ratio not measured)."""
    return ", ".join(f"{what} {'-' if ratio is None else f'{ratio:.2f}x'}"
                     for what, ratio in named_ratios)


def _verdict(ok):
    return MET if ok else MISSED


def deploy_rows(deploy):
    sizes = (deploy or {}).get("sizes", {})
    rows = []
    size = sizes.get(str(VERDICT_SIZE), {})
    for key, floor_key, name in FLOOR_PAIRS:
        ratio = floor_ratio(size, key, floor_key)
        pairs = min(len(size.get(key) or ()), len(size.get(floor_key) or ()))
        interval = floor_interval(size, key, floor_key)
        spread = "" if interval is None else (
            f"; {interval[2] * 100:.1f} % interval {interval[0]:.3f}-{interval[1]:.3f}x")
        measured = "-" if ratio is None else (
            f"{ratio:.3f}x ({pairs} pairs{spread}; medians {median(size[key]):.2f} s / "
            f"{median(size[floor_key]):.2f} s)")
        rows.append((f"{name}, N={VERDICT_SIZE}", measured, f"<= {FLOOR_LIMIT:.2f}x",
                     NOT_MEASURED if ratio is None else judged(interval, FLOOR_LIMIT)))
    ratio, noop_slope, floor_slope = slope_ratio(sizes)
    counts = sorted(int(count) for count, size in sizes.items() if size.get("noop"))
    span = f"N={counts[0]}-{counts[-1]}" if counts else "N"
    interval = slope_interval(sizes)
    spread = "" if interval is None else (
        f"; +/-{SLOPE_ERRORS} SE {interval[0]:.2f}-{interval[1]:.2f}x")
    measured = "-" if ratio is None else (
        f"{ratio:.2f}x ({noop_slope * 1000:.1f} / {floor_slope * 1000:.1f} ms per host"
        f"{spread})")
    rows.append((f"no-op seconds per host / connect floor's, {span}", measured,
                 f"<= {SLOPE_LIMIT:.1f}x",
                 NOT_MEASURED if ratio is None else judged(interval, SLOPE_LIMIT)))
    return rows


def cpu_per_host(size, key, count, who):
    """The median over the runs under `key` of `who`'s ("controller" or "hosts") CPU
    milliseconds per host, or None when not recorded (runs whose hosts' CPU could not be
    read are left out)."""
    return median([seconds * 1000 / int(count) for seconds in _cpu(size, key, who)
                   if seconds is not None])


def _cpu(size, key, who):
    """The CPU seconds of `who` recorded for each run under `key` ([] before they were)."""
    return (((size or {}).get("cpu") or {}).get(key) or {}).get(who) or []


def cpu_fit(sizes, key, who):
    """The least-squares line of `who`'s CPU seconds against N over every run under
    `key` (fit_line), or None with fewer than two N."""
    return fit_line(_points(sizes, lambda size: _cpu(size, key, who)))


def cpu_added(sizes, key, base_key):
    """{who: CPU milliseconds per host that the runs under `key` add over those under
    `base_key`} from the slopes of cpu_fit (None where either has no line)."""
    added = {}
    for who in ("hosts", "controller"):
        lines = cpu_fit(sizes, key, who), cpu_fit(sizes, base_key, who)
        added[who] = None if None in lines else (lines[0][1] - lines[1][1]) * 1000
    return added


def failover_rows(failover):
    """Per kind: the median within 10 % of theory, and no trial above theory + 0.5 s;
    the fast profile also under 0.5 s in every trial. Where the adverts were heard, also
    the median counted from the master's last advert, where the theory starts."""
    rows = []
    for kind, data in (failover or {}).get("kinds", {}).items():
        theory, times = data["theory"], data["times"]
        answered = [t for t in times if t is not None]
        if not answered:
            rows.append((f"{kind}: median", "no answer", f"{theory:.3f} s +/- 10 %", MISSED))
            continue
        middle, worst = median(answered), max(answered)
        complete = len(answered) == len(times)
        faster = " (faster than theory)" if middle < 0.9 * theory else ""
        rows.append((f"{kind}: median", _seconds(middle, 3) + faster,
                     f"{theory * 0.9:.3f}-{theory * 1.1:.3f} s (theory {theory:.3f} s +/- 10 %)",
                     _verdict(abs(middle - theory) <= 0.1 * theory)))
        since_advert = [t for t in data.get("from_advert", []) if t is not None]
        if since_advert:
            advert_theory, middle_advert = data["advert_theory"], median(since_advert)
            rows.append((f"{kind}: median from the master's last advert",
                         _seconds(middle_advert, 3),
                         f"{advert_theory * 0.9:.3f}-{advert_theory * 1.1:.3f} s "
                         f"(theory {advert_theory:.3f} s +/- 10 %)",
                         _verdict(abs(middle_advert - advert_theory) <= 0.1 * advert_theory)))
        limit = min(theory + 0.5, 0.5) if kind == "fast" else theory + 0.5
        rows.append((f"{kind}: max of {len(times)}", _seconds(worst, 3) if complete else
                     f"{len(times) - len(answered)} trials without answer", f"<= {limit:.3f} s",
                     _verdict(complete and worst <= limit)))
    return rows


def reload_rows(reload):
    if not reload:
        return [("reload: lost polls", "-", "0", NOT_MEASURED),
                ("reload: transitions", "-", "0", NOT_MEASURED)]
    transitions = sum(len(states) for states in reload["transitions"].values()) \
        + reload["mac_changes"]
    return [
        (f"reload: lost polls ({reload['changes']} changes)", str(reload["lost"]), "0",
         _verdict(reload["lost"] == 0)),
        ("reload: state transitions + MAC changes", str(transitions), "0",
         _verdict(transitions == 0)),
    ]


ROLLING_KINDS = {"options": "daemon options", "upgrade": "package upgrade"}


def rolling_rows(rolling):
    """Issue 15: a rolling restart (daemon options; package upgrade) loses no poll, and no
    answer is missing longer than 1.0 s (the goal: 0.1 s)."""
    rows = []
    for kind, title in ROLLING_KINDS.items():
        part = (rolling or {}).get(kind)
        name = f"rolling restart, {title}"
        if not part:
            rows += [(f"{name}: lost polls", "-", "0", NOT_MEASURED),
                     (f"{name}: longest without an answer", "-", "<= 1.0 s (goal 0.1 s)",
                      NOT_MEASURED)]
            continue
        gap = part["longest_gap"]
        rows += [
            (f"{name}: lost polls ({part['restarts']} restarts)", str(part["lost"]), "0",
             _verdict(part["lost"] == 0)),
            (f"{name}: longest without an answer", _seconds(gap, 3),
             "<= 1.0 s (goal 0.1 s)", _verdict(gap is not None and gap <= 1.0)),
        ]
    return rows


def rows(results):
    return (deploy_rows(results.get("deploy")) + failover_rows(results.get("failover"))
            + reload_rows(results.get("reload")) + rolling_rows(results.get("rolling")))


def _seconds(value, digits=2):
    return "-" if value is None else f"{value:.{digits}f} s"
