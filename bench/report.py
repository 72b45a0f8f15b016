"""BENCHMARKS.md and its plots, from the results dict (also saved as JSON, so the report
can be written again without measuring: `python3 -m bench report`)."""

import os

from . import ssh_logins, targets
from .stats import median
from .tables import table

PLOTS = "docs/bench"


def write(results, out_dir):
    """Write OUT/BENCHMARKS.md and its plots under OUT/docs/bench/; returns the md path."""
    os.makedirs(os.path.join(out_dir, PLOTS), exist_ok=True)
    plots = [plot for plot in (_plot_deploy(results.get("deploy"), out_dir),
                               _plot_failover(results.get("failover"), out_dir)) if plot]
    path = os.path.join(out_dir, "BENCHMARKS.md")
    with open(path, "w") as f:
        f.write(markdown(results, plots))
    return path


def markdown(results, plots=()):
    machine = results.get("machine", {})
    lines = [
        "# Benchmarks",
        "",
        "Written by `python3 -m bench` (see docs/benchmarks.md); the figures are in "
        f"`{PLOTS}/results.json`. Docker test hosts (Debian 12, systemd, sshd) on one machine, "
        "reached over SSH.",
        "",
    ]
    if results.get("quick"):
        lines += ["**QUICK MODE (development run): 1 run, small N. Not the benchmark.**", ""]
    lines += [
        f"- Date: {machine.get('date', '?')} (each part below says when it was measured)",
        f"- Machine: {machine.get('nproc', '?')} cores (`nproc`), "
        f"{machine.get('memory_gib', '?')} GiB memory, kernel {machine.get('kernel', '?')}",
        f"- Docker {machine.get('docker', '?')}; pyinfra {machine.get('pyinfra', '?')}, "
        f"Python {machine.get('python', '?')}",
        f"- keepalived: {', '.join(machine.get('keepalived_local', [])) or '?'} on the machine "
        f"(config tests); {(results.get('failover') or {}).get('keepalived', '?')} in the "
        "test hosts",
        "",
        "## Targets",
        "",
        *table(["Figure", "Measured", "Target", "Verdict"],
                [[figure, measured, target, verdict if verdict != targets.MISSED else
                  "**MISSED**"] for figure, measured, target, verdict in targets.rows(results)]),
        "",
    ]
    lines += _deploy_section(results.get("deploy"))
    lines += _failover_section(results.get("failover"))
    lines += _reload_section(results.get("reload"))
    lines += _rolling_section(results.get("rolling"))
    lines += ssh_logins.section(results.get("ssh"))
    if plots:
        lines += ["## Plots", ""] + [f"![{name}]({path})" for name, path in plots] + [""]
    return "\n".join(lines)


def _when(part):
    if "measured_at" not in part:
        return []
    load = part.get("load_average")
    busy = f"; load average {load[0]} at its start, {load[1]} at its end" if load else ""
    return [f"Measured {part['measured_at']} (the part took {part['run_seconds']} s{busy}).",
            ""]


def _seconds(values, digits=2):
    return "-" if not values else f"{median(values):.{digits}f}"


def _cached_lines(cached):
    """The cold converges through a package cache, if they were measured."""
    if not cached:
        return []
    return [f"Cold converge of {cached['hosts']} hosts downloading through a package cache "
            "next to them (a fresh, empty apt-cacher-ng started with the cluster: "
            "`keepalived_package_proxy`): median "
            f"{_seconds(cached['cold'])} s ({len(cached['cold'])} runs: "
            + ", ".join(f"{t:.2f}" for t in cached["cold"]) + " s).", ""]


def _ratio(value, digits=2):
    return "-" if value is None else f"{value:.{digits}f}x"


def _mib(values):
    return "-" if not values else f"{max(values) / 2 ** 20:.0f}"


def _deploy_rows(sizes):
    """One row per N: times (medians), the ratios to the floors (medians of the pairs),
    commands, the controller's peak memory and the test hosts' memory."""
    rows = []
    for count, size in sorted(sizes.items(), key=lambda item: int(item[0])):
        commands = size.get("commands", {}).values()
        facts = [c["facts"] for c in commands]
        operations = [c["operations"] for c in commands]
        memory = size.get("memory_bytes") or []
        rss = [max(size.get(key) or [0]) / 1024
               for key in ("noop_max_rss_kib", "cold_max_rss_kib")]
        rows.append([
            count, f"{_seconds(size['cold'])} ({len(size['cold'])})",
            _seconds(size.get("package")),
            _ratio(targets.floor_ratio(size, "cold", "package"), 3),
            f"{_seconds(size['noop'])} ({len(size['noop'])})",
            *[_seconds(size.get(key)) for _, key in targets.BOUND_NAMES],
            _ratio(targets.floor_ratio(size, "noop", "noop_probe"), 3),
            f"{max(facts)} + {max(operations)}" if commands else "-",
            f"{rss[0]:.0f} / {rss[1]:.0f}",
            f"{_mib(memory)} ({max(memory) / 2 ** 20 / int(count):.0f} per host)"
            if memory else "-"])
    return rows


def _fit_lines(sizes):
    """The least-squares lines of the no-op, its floors and the cold converge against N."""
    parts = []
    for name, key in (("no-op", "noop"), ("probe floor", "noop_probe"),
                      ("connect floor", "noop_connect"), ("cold converge", "cold"),
                      ("package floor", "package")):
        line = targets.fit(sizes, key)
        if line:
            intercept, slope_, r_squared = line
            parts.append(f"{name} {intercept:.2f} s + {slope_ * 1000:.1f} ms x N "
                         f"(r\u00b2 {r_squared:.3f})")
    return parts


def _order_text(deploy):
    """How the runs of a pair or round were ordered (ABBA since it was recorded)."""
    if deploy.get("order") != "ABBA":
        return ("Order: each pair ran the floor, then the deploy; each no-op round ran the "
                "connect floor, the probe floor, then the no-op (one order throughout).")
    return ("Order ABBA, so that an effect of running first or second cancels in the "
            "medians: pairs 1, 3, ... ran the package floor first, pairs 2, 4, ... the "
            "cold converge first (one cluster at a time: then the no-op rounds on its "
            "cluster come before the floor); no-op rounds, numbered on across an N's "
            "clusters, ran connect floor, probe floor, no-op in rounds 1, 3, ... and "
            "no-op, probe floor, connect floor in rounds 2, 4, ... (the probe floor always "
            "right beside the no-op it pairs with).")


def _verdict_text():
    return ("Verdicts: with 4-12 pairs a median alone over-reads noise, so a target is met "
            "only when the whole of the ratio's distribution-free confidence interval of "
            "the median is within the limit, MISSED only when all of it is beyond, and "
            "inconclusive otherwise (also with a single pair) - the interval being the sign "
            "test's, from the k-th smallest to the k-th largest per-pair ratio with the "
            "largest k that holds the true median at least 90 % of the time (up to 7 "
            "pairs: the smallest to the largest, 87.5 % with 4), and for the slope ratio "
            f"the quotients of each slope +/- {targets.SLOPE_ERRORS} standard errors of its "
            "least-squares fit over all runs.")


def _ms(value, digits=0):
    return "-" if value is None else f"{round(value, digits) + 0.0:.{digits}f}"  # no "-0"


def cpu_rows(sizes):
    """Per N with CPU recorded: the medians of controller / hosts CPU ms per host."""
    return [[count, *[f"{_ms(targets.cpu_per_host(size, key, count, 'controller'))} / "
                      f"{_ms(targets.cpu_per_host(size, key, count, 'hosts'))}"
                      for _, key in targets.CPU_RUNS]]
            for count, size in sorted(sizes.items(), key=lambda item: int(item[0]))
            if size.get("cpu")]


def cpu_sentence(sizes):
    """"Per host, the probe adds X ms of host CPU and Y ms of controller CPU over the
    connect floor; the no-op ... over the probe floor" (slopes of the CPU against N)."""
    parts = []
    for what, key, base, base_name in (("the probe", "noop_probe", "noop_connect",
                                        "the connect floor"),
                                       ("the no-op", "noop", "noop_probe", "the probe floor")):
        added = targets.cpu_added(sizes, key, base)
        if any(value is not None for value in added.values()):
            parts.append(f"{what} adds {_ms(added['hosts'], 1)} ms of host CPU and "
                         f"{_ms(added['controller'], 1)} ms of controller CPU over "
                         f"{base_name}")
    return "Per host (slopes of CPU seconds against N), " + "; ".join(parts) + "." \
        if parts else ""


def _cpu_lines(sizes):
    """The CPU table and what the probe adds per host, if CPU was recorded."""
    rows = cpu_rows(sizes)
    if not rows:
        return []
    unread = any(None in ((size.get("cpu") or {}).get(key) or {}).get("hosts", [])
                 for size in sizes.values() for _, key in targets.CPU_RUNS)
    return [
        "CPU per host, to show where per-host cost comes from on a machine whose cores "
        "the test hosts share with the controller (figures, not verdicts): the "
        "controller's is pyinfra's user + system time (its rusage), the test hosts' the "
        "growth of their containers' cgroup CPU usage over the run, summed; both divided "
        "by N, medians of the runs"
        + (" (where no container's cgroup could be read, the hosts' CPU is left out: -)"
           if unread else "") + ". Controller / test hosts, ms per host:",
        "",
        *table(["Hosts", *[name for name, _ in targets.CPU_RUNS]], rows),
        "",
        *([sentence, ""] if (sentence := cpu_sentence(sizes)) else []),
    ]


def _reference_rows(sizes):
    return [[what, hosts, cold, noop, _ratio(cold_ratio), _ratio(noop_ratio)]
            for what, hosts, cold, noop, cold_ratio, noop_ratio
            in targets.reference_ratios(sizes)]


def _deploy_section(deploy):
    if not deploy:
        return []
    sizes = deploy["sizes"]
    ratio, noop_slope, floor_slope = targets.slope_ratio(sizes)
    lines = [
        "## Deploy speed",
        "",
        *_when(deploy),
        "`python3 -m pyinfra INVENTORY deploy.py -y`, wall time, each beside a floor it "
        "cannot beat, measured in pairs so that the machine's drift (other work on the "
        "machine) cancels: a ratio is the median over the pairs of each pair's run over "
        "that pair's floor. " + _order_text(deploy) + " Cold: "
        "a fresh cluster, keepalived not installed (apt-get update and install from the "
        "Debian mirror included); package floor: `bench/only_package.py` on another fresh "
        "cluster beside it, deploy.py's own package command (built by its code, the "
        "one it sends a fresh host) and nothing else. No-op: deploy.py again on the "
        "converged cluster, in rounds of connect floor, probe floor and no-op (in the "
        "order above); "
        "`bench/only_connect.py` runs `true` under sudo on each host (pyinfra's SSH "
        "connection and sudo, nothing else), `bench/only_probe.py` reads deploy.py's one "
        "fact and adds no operation (what reading a host's state costs). Commands: shell "
        "commands sent to each host on a no-op, counted from `-vv` output (fact commands "
        "+ operation commands; uploads over SFTP not counted). Hosts' memory: `docker "
        "stats` of the cluster's containers after the rounds (keepalived running), the "
        "largest of the clusters. In brackets: how many runs (cold: pairs).",
        "",
        *table(["Hosts", "Cold (s)", "Package floor (s)", "Cold / package floor",
                 "No-op (s)", *[f"Floor: {what} (s)" for what, _ in targets.BOUND_NAMES],
                 "No-op / probe floor", "Commands per host, no-op (facts + ops)",
                 "Peak RSS of pyinfra, no-op / cold (MiB)", "Test hosts' memory (MiB)"],
                _deploy_rows(sizes)),
        "",
        "Least-squares lines against N, over every run: " + "; ".join(_fit_lines(sizes))
        + ". The no-op grows by "
        + ("-" if ratio is None else
           f"{noop_slope * 1000:.1f} ms per host, {ratio:.2f}x the connect floor's "
           f"{floor_slope * 1000:.1f} ms")
        + ". The test hosts share the machine's cores with pyinfra: each host's sshd, "
        "sudo and probe take CPU from the controller, so on this machine per-host cost "
        "grows with N even for the floors (on a real fleet each host has its own CPU). "
        "N=20 / N=5 of the floors: " + targets.ratios_text(targets.floor_ratios(sizes))
        + f"; of the no-op: {_ratio(targets.noop_ratio(sizes, 'noop'))}.",
        "",
        _verdict_text(),
        "",
        *_cpu_lines(sizes),
        *_cached_lines(deploy.get("cold_via_cache")),
        "Reference figures **quoted from issue 5, not measured here**, and this deploy's "
        "median at the same N over them (below 1: faster; on this machine, not theirs):",
        "",
        *table(["Deploy (quoted)", "Hosts", "Cold (s)", "No-op (s)",
                 "This deploy's cold / quoted", "This deploy's no-op / quoted"],
                _reference_rows(sizes)),
        "",
    ]
    return lines


def _failover_section(failover):
    if not failover:
        return []
    rows = []
    for kind, data in failover["kinds"].items():
        answered = [t for t in data["times"] if t is not None]
        since_advert = [t for t in data.get("from_advert", []) if t is not None]
        lags = [lag for lag in data.get("lags", []) if lag is not None]
        placed = (f"{data['placed']} +{median(lags) * 1000:.1f} ms"
                  if data.get("placed") and lags else "any moment")
        rows.append([kind, data["label"], f"{data['theory']:.3f}", placed,
                     f"{data.get('earliest', data['theory']):.3f}-{data['theory']:.3f}",
                     _seconds(answered, 3), f"{max(answered):.3f}" if answered else "-",
                     f"{min(answered):.3f}" if answered else "-",
                     f"{len(answered)}/{len(data['times'])}",
                     f"{data['advert_theory']:.3f}" if since_advert else "-",
                     _seconds(since_advert, 3),
                     f"{max(since_advert):.3f}" if since_advert else "-"])
    return [
        "## Failover speed",
        "",
        *_when(failover),
        "From the fault (time read inside the master right before it) to the first ping "
        "of the VIP answered from the backup's MAC, seen by a third container polling "
        "every ~30 ms. Theory: RFC 3768 timers (Master_Down_Interval = 3 x advert_int + "
        "(256 - 90)/256 s; graceful stop: skew time; tracked check: fall x interval + "
        "Master_Down_Interval). SIGKILL goes to keepalived's process group in one call: "
        "`systemctl kill -s SIGKILL` signals the processes one by one, and in 3 of 21 "
        "trials the VRRP child still exited gracefully (a priority-0 advert: the VIP moved "
        "after the skew time, 0.67 s).",
        "",
        "The theory is the worst case: it counts from the master's LAST advert (the "
        "backup's down timer restarts on each one), which a fault at a random moment "
        "follows by up to one advert_int; a tracked check's fault follows the check's last "
        "run by up to one interval. So each fault is placed at the worst moment, right "
        "after what starts the theory's clock: a crash right after an advert of the master "
        "(heard on the cluster's bridge; kill(2) or `docker pause` sent from the machine "
        "at once), the tracked service's stop right after a run of the check (heard "
        "through the kernel's process events). 'Fault after' is how long after that the "
        "fault came (median). For the check, keepalived's own timers set how long before "
        "the fall-th failed run the master's last advert went out (up to one advert_int): "
        "no fault placing can fix that, hence its window. The time is also counted from "
        "the master's last advert that kept the backup waiting (priority above 90; or "
        "its priority-0 advert on a graceful stop), heard with kernel timestamps.",
        "",
        *table(["Fault", "What", "Theory (s)", "Fault after", "Window from the fault (s)",
                 "Median (s)", "Max (s)", "Min (s)", "Answered",
                 "From last advert: theory (s)", "median (s)", "max (s)"], rows),
        "",
    ]


def _reload_section(reload):
    if not reload:
        return []
    return [
        "## Reload without flap",
        "",
        *_when(reload),
        f"{reload['changes']} deploys (`pyinfra -y`), each adding or removing a second VIP "
        f"on both hosts (deploys that changed nothing: {reload['deploys_without_change']}; "
        f"reloads logged on the master: {reload['master_reloads']}), while a third "
        f"container pinged the VIP every 50 ms for {reload['seconds']:.0f} s.",
        "",
        *table(["Polls", "Lost", "MAC changes", "State transitions (journal)"],
                [[reload["polls"], reload["lost"], reload["mac_changes"],
                  "; ".join(f"{host}: {len(states)} {' '.join(states)}".strip()
                            for host, states in reload["transitions"].items())]]),
        "",
    ]


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot
    return pyplot


def _plot_deploy(deploy, out_dir):
    if not deploy:
        return None
    pyplot = _pyplot()
    sizes = sorted(deploy["sizes"].items(), key=lambda item: int(item[0]))
    figure, axes = pyplot.subplots(figsize=(10, 4.5))
    for kind, label, colour, style in (
            ("cold", "cold converge", "tab:blue", "o-"),
            ("package", "package floor", "tab:blue", "s:"),
            ("noop", "no-op re-run", "tab:green", "o-"),
            ("noop_probe", "probe floor", "tab:green", "s:"),
            ("noop_connect", "connect floor", "tab:gray", "^:")):
        measured = [(int(n), median(s[kind])) for n, s in sizes if s.get(kind)]
        axes.plot([n for n, _ in measured], [t for _, t in measured], style, color=colour,
                  label=f"{label} (measured, median)")
    for what, marker in (("Ansible role (10 forks, pipelining)", "x"),
                         ("straightforward pyinfra deploy", "+")):
        quoted = [(h, c, n) for w, h, c, n in targets.REFERENCES if w == what]
        axes.plot([h for h, _, _ in quoted], [c for _, c, _ in quoted], marker,
                  color="tab:blue", markersize=9, linestyle="none")
        axes.plot([h for h, _, _ in quoted], [n for _, _, n in quoted], marker,
                  color="tab:green", markersize=9, linestyle="none",
                  label=f"{what} (quoted, {marker}: blue cold, green no-op)")
    axes.set_xlabel("hosts")
    axes.set_ylabel("seconds")
    _plain_log_axis(axes)
    axes.set_title("pyinfra deploy.py -y: wall time")
    axes.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _save(figure, pyplot, out_dir, "deploy_speed.png", "Deploy speed")


def _plot_failover(failover, out_dir):
    if not failover:
        return None
    pyplot = _pyplot()
    kinds = list(failover["kinds"].items())
    figure, axes = pyplot.subplots(figsize=(7, 4.5))
    for index, (kind, data) in enumerate(kinds):
        answered = [t for t in data["times"] if t is not None]
        axes.scatter([index] * len(answered), answered, color="tab:blue", s=14,
                     label="trials" if index == 0 else None)
        if answered:
            axes.plot([index - 0.3, index + 0.3], [median(answered)] * 2, color="tab:blue",
                      label="median" if index == 0 else None)
        since_advert = [t for t in data.get("from_advert", []) if t is not None]
        axes.scatter([index + 0.15] * len(since_advert), since_advert, color="tab:orange",
                     marker="x", s=18, label="from the last advert" if index == 0 else None)
        axes.plot([index - 0.3, index + 0.3], [data["theory"]] * 2, color="tab:red",
                  linestyle="--", label="theory" if index == 0 else None)
        earliest = data.get("earliest", data["theory"])
        axes.fill_between([index - 0.3, index + 0.3], earliest, data["theory"], color="tab:red",
                          alpha=0.12, label="window from the fault" if index == 0 else None)
    axes.set_xticks(range(len(kinds)), [kind for kind, _ in kinds])
    axes.set_ylabel("seconds to the backup's first answer")
    _plain_log_axis(axes)
    axes.set_title("VIP failover")
    axes.legend(fontsize=8)
    return _save(figure, pyplot, out_dir, "failover_speed.png", "Failover speed")


def _plain_log_axis(axes):
    from matplotlib.ticker import ScalarFormatter
    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(ScalarFormatter())
    axes.yaxis.set_minor_formatter(ScalarFormatter())
    axes.tick_params(axis="y", which="minor", labelsize=7)


def _save(figure, pyplot, out_dir, name, title):
    figure.tight_layout()
    figure.savefig(os.path.join(out_dir, PLOTS, name), dpi=100)
    pyplot.close(figure)
    return title, f"{PLOTS}/{name}"


def _rolling_section(rolling):
    if not rolling:
        return []
    parts = [(kind, rolling[kind]) for kind in ("options", "upgrade") if rolling.get(kind)]
    if not parts:
        return []
    first = parts[0][1]
    rows = [[title, part["restarts"], part["polls"], part["lost"],
             "-" if part["longest_gap"] is None else f"{part['longest_gap']:.3f} s",
             "-" if part.get("slowest_reply") is None else f"{part['slowest_reply'] * 1000:.2f} ms",
             "yes" if part["vip_on_master"] else "NO"]
            for kind, part in parts
            for title in [{"options": "daemon options", "upgrade": "package upgrade"}[kind]]]
    return [
        "## Rolling restart",
        "",
        *_when(rolling),
        "Deploys (`pyinfra -y`) that each restart keepalived on "
        f"{' and '.join(first['hosts'])}, one at a time, the master last after its VIP went "
        "to the backup, while a third container pinged the VIP every 20 ms: daemon options "
        "changed back and forth; the package upgraded to a repackaged copy of Debian 12's "
        "keepalived with a higher version (testhosts/local_upgrade.sh) and back.",
        "",
        *table(["Restart", "Deploys", "Polls", "Lost", "Longest without an answer",
                 "Slowest reply", "VIP back on the master"], rows),
        "",
    ]