"""Config changes the peers of an instance must agree on go live on all of them together.

A backup drops every advert whose VIP list, authentication, VRID, VRRP version or advert
interval differs from its own (model.peers.MUST_AGREE): while one host of an instance
runs the new list and its peer the old one, both are MASTER. So such a change (an
"agreement change": the instance's agreement file, render.config.agreement_file, differs
from the one the host runs) goes live on every host of the instance or on none, in two
operations that pyinfra runs on all hosts, each before the next:

1. ``config_prepare``: upload, stage and ``keepalived -t`` under the host's lock; the
   tested tree is left prepared, NOT live, and the lock stays held for it (transaction.sh
   ``prepare``: no other run changes the host until the commit);
2. ``config_commit``: on every host at once (pyinfra sends an operation to all hosts
   concurrently), swap and reload; a host first asks whether a host connected to it
   through changed instances (its peers, their peers, ...) failed to prepare, or never
   got to it (it failed, even while the run was planned): then it discards its prepared
   tree and fails, saying which host, and every host of that group stays on the old
   config (commit_refusals: one decision for the whole run).

A peer outside ``--limit`` or unreachable blocks such a change before any host is touched,
unless its data says ``keepalived_commit_without_peers``. Other changes (a check script, a
priority, notify) keep the one-command path of ``config_tree``.

    plan = plan_host(settings, files, probe, manager)  # (operations.plan)
    if plan.agreement:
        commit_together(settings, files, plan.agreement, everyone,
                        then=plan.start if plan.running else (), work=plan.tree,
                        tree=probe.tree)
"""

from pyinfra import host, logger, state
from pyinfra.api import StringCommand, operation
from pyinfra.api.exceptions import DeployError

from ..host_paths import LOCK_WAIT_SECONDS
from ..model.peers import peers_by_instance
from ..per_run import once_per_run
from ..render.config import agreement_path, instances_path
from . import state_files, uploads
from .config_tree import TreeWork, generation_name, log_diff, transaction

HOLD_MARGIN = 60  # seconds the prepared tree's lock is held beyond the longest lock wait


def agreement_changes(settings, files, tree):
    """The names of the host's instances whose agreement (what their peers must have
    alike) differs from what the host's tree holds: the instances that must commit
    together. Also where keepalived does not run: the run starts it, on the new
    agreement, only once its running peers committed it (never beside a peer that
    failed and runs the old one: both would be MASTER). A tree without any agreement
    file (laid out by an earlier version of the deploy) tells nothing: then every
    instance counts as changed when the instances file changed; a host without a tree
    has nothing to change from."""
    paths = {instance.name: agreement_path(settings.paths, instance.name)
             for instance in settings.instances}
    recorded = any(path in tree for path in paths.values())
    instances_file = instances_path(settings.paths)
    unknown = not recorded and instances_file in tree and not tree[instances_file].holds(
        files[instances_file].content)
    return tuple(name for name, path in paths.items()
                 if (path in tree and not tree[path].holds(files[path].content))
                 or (unknown and path not in tree))


def peers_of(everyone, name, instances):
    """{instance: [the other hosts that have it]} for `instances`, from `everyone`
    ({host name: Settings}, the whole inventory)."""
    hosts = peers_by_instance(everyone.values())
    return {instance: [peer for peer, _, _ in hosts[instance] if peer != name]
            for instance in instances}


def absent_peers(peers, running):
    """[(instance, peer)] of `peers` ({instance: [host name]}) that are not in
    `running` (the names of the hosts this run reaches)."""
    return [(instance, peer) for instance, hosts in peers.items() for peer in hosts
            if peer not in running]


def refuse_absent(settings, peers, running):
    """Stop the run (DeployError, before any host is touched) when a peer of a changed
    instance is not in it, unless this host's data allows it (then a warning)."""
    absent = absent_peers(peers, running)
    if not absent:
        return
    named = "; ".join(f"{instance}: peer {peer}" for instance, peer in absent)
    risk = ("while they differ, the peers drop each other's adverts and both hold the VIPs "
            "(split brain)")
    if settings.host_level.commit_without_peers:
        host.log(f"a change the peers must agree on goes live without them ({named} not in "
                 f"this run: outside --limit or unreachable), as "
                 f"keepalived_commit_without_peers allows: {risk} until they are deployed",
                 logger.warning)
        return
    raise DeployError(
        f"{settings.host}: a change the peers of an instance must agree on (VIPs, auth, "
        f"VRID, version, advert_int) needs every peer in the run, and {named} is not "
        f"(outside --limit, or unreachable); nothing was changed. Deploy the peers "
        f"together, or set keepalived_commit_without_peers on {settings.host}, accepting "
        f"that {risk} until the peers are deployed")


NOTHING_TO_CHANGE = "nothing to change"  # a host's plan: probed, no agreement change


def plans():
    """{host name: OperationMeta of its prepare step, or NOTHING_TO_CHANGE}: what each
    host planned, recorded once its probe succeeded. A host without a record failed
    before it planned (its probe fact failed) or was not in the run."""
    return once_per_run("config prepare steps", dict)


def changes():
    """{host name: the instances it prepares}: shared like `plans`."""
    return once_per_run("agreement changes", dict)


def nothing_to_change():
    """Record that this host, probed, has no change to prepare (after `commit_together`
    or in its place; a host whose probe failed records nothing)."""
    if host.name not in {failed.name for failed in state.failed_hosts}:
        plans().setdefault(host.name, NOTHING_TO_CHANGE)


def _trouble(plan, failed):
    """Why a host's plan keeps its peers from committing, or None."""
    if plan is None or (failed and plan is NOTHING_TO_CHANGE):
        return "failed before it prepared the config"
    if plan is NOTHING_TO_CHANGE:
        return None
    if not plan.is_complete():
        return "failed before it prepared the config"
    if not plan.did_succeed():
        return "could not prepare the config"
    return None


def commit_refusals(planned, changed, everyone, failed):
    """{host name: why it must not commit} for every host that prepared: a host is
    refused when any host connected to it through changed instances (a chain of peers:
    lb1-VI_1-lb2, lb1-VI_2-lb3) did not prepare successfully, so the hosts of a connected
    group commit all or none. `planned`: `plans()`; `changed`: `changes()`; `everyone`:
    {host name: Settings}; `failed`: names of the failed hosts. A peer without a plan (not
    in the run) does not count for a host whose data says keepalived_commit_without_peers.
    Computed from shared data only: every host reaches the same decision."""
    hosts = peers_by_instance(everyone.values())
    parent = {}

    def root(name):
        parent.setdefault(name, name)
        while parent[name] != name:
            name = parent[name]
        return name

    def trouble(name):
        return _trouble(planned.get(name), name in failed)

    direct = {}  # {host: [(instance, peer)]}
    for name, instances in changed.items():
        without_peers = everyone[name].host_level.commit_without_peers
        for instance in instances:
            for peer, _, _ in hosts[instance]:
                if peer == name or (without_peers and planned.get(peer) is None):
                    continue
                direct.setdefault(name, []).append((instance, peer))
                if peer in changed or trouble(peer):  # (a host with nothing to change
                    parent[root(peer)] = root(name)  # commits nothing: no link through it)

    refusals = {}
    for name in changed:
        why = next((f"{peer} (a peer of {instance}) {trouble(peer)}"
                    for instance, peer in direct.get(name, []) if trouble(peer)), None)
        why = why or next((f"{other} (linked to {name} through the peers of changed "
                           f"instances) {trouble(other)}" for other in sorted(parent)
                           if other != name and root(other) == root(name) and trouble(other)),
                          None)
        if why:
            refusals[name] = why
    return refusals


def refused(everyone):
    """Why this host must not commit, or None; asked when the commit runs: the decision
    of the whole run, worked out once (the first host to ask) from what every host
    planned and which hosts failed."""
    return once_per_run("commit refusals", lambda: commit_refusals(
        plans(), changes(), everyone, {failed.name for failed in state.failed_hosts}),
    ).get(host.name)


def start_refusals(planned, changed, everyone, failed, refusals, name):
    """Why host `name`, whose keepalived does not run, must not start it in this run, or
    None: a peer of one of its instances prepared a change of that instance's agreement
    and did not commit it (it could not prepare, failed, or was refused: `refusals`, the
    run's commit_refusals). That peer keeps the old agreement; started on the new one
    beside it, this host would drop its adverts and both would hold the VIPs. Not starting
    drops nothing: the peers hold the VIPs. `planned`, `changed`, `everyone`, `failed`: as
    for commit_refusals."""
    hosts = peers_by_instance(everyone.values())
    for instance in everyone[name].instances:
        for peer, _, _ in hosts[instance.name]:
            if peer == name or instance.name not in changed.get(peer, ()):
                continue
            why = (refusals.get(peer) and f"did not commit ({refusals[peer]})"
                   or _trouble(planned.get(peer), peer in failed)
                   or (peer in failed and "failed while committing it"))
            if why:
                return (f"keepalived not started: {peer} (a peer of {instance.name}) changed "
                        f"what the peers must agree on and {why}; it may keep the old "
                        f"{instance.name}, and this host would start on the new one beside it "
                        "(both would hold the VIPs). The next run starts it once they commit")
    return None


def start_refused(everyone):
    """Why this host must not start keepalived in this run, or None (start_refusals); asked
    when its start runs, after every commit of the run."""
    failed = {failed.name for failed in state.failed_hosts}
    refusals = once_per_run("commit refusals", lambda: commit_refusals(
        plans(), changes(), everyone, failed))
    return start_refusals(plans(), changes(), everyone, failed, refusals, host.name)


def hold_seconds(everyone):
    """How long a prepared tree keeps its host's lock: until every peer has prepared (the
    longest lock wait of the inventory) and a margin."""
    return max([s.host_level.lock_wait for s in everyone.values()]
               or [LOCK_WAIT_SECONDS]) + HOLD_MARGIN


@operation()
def config_prepare(files, paths, generation, hold, lock_wait=LOCK_WAIT_SECONDS,
                   work: TreeWork | None = None, tree=None):
    """
    Phase 1 of a change the peers must agree on: upload the tree ``files``, stage it and
    check it with the host's ``keepalived -t`` under the deploy lock, and leave it
    prepared, not live, with the lock held for it (at most ``hold`` seconds) until
    ``config_commit``. A rejected tree fails the host; nothing is left.

    + files: ``{path: ManagedFile}`` (render.config.config_files)
    + paths: the tree's ``Paths``
    + generation: the new generation's name (config_tree.generation_name), the same in
      both phases
    + hold: seconds the lock stays held for the prepared tree
    + lock_wait: seconds to wait for another run's lock on the host
    + work: what differs on the host (the host plan's ``TreeWork``), for ``--diff``
    + tree: what the host has now (a probe's ``tree``), for ``--diff``: with both, each
      file's diff is printed (masked), as ``config_tree`` prints it

    **Example:**

    .. code:: python

        config_prepare(name="Prepare the keepalived config", files=files,
                       paths=settings.paths, generation=generation_name(), hold=180)
    """
    if state.config.DIFF and work is not None and tree is not None:
        log_diff(work, tree)
    uploaded = uploads.private_dir()
    yield from uploads.send(uploaded, [file.content for file in files.values()])
    yield StringCommand(*uploads.installing(uploaded, [transaction(
        paths, uploaded, list(files.values()), lock_wait, mode="prepare",
        generation=generation, hold=hold)]))


@operation()
def config_commit(paths, generation, refused, then=()):
    """
    Phase 2: make the prepared generation live (one rename) and reload keepalived, while
    the lock taken by ``config_prepare`` is still held for it; or, when ``refused()``
    (asked when the operation runs) gives a reason, discard it and fail with that reason.

    + paths: the tree's ``Paths``
    + generation: the name ``config_prepare`` got
    + refused: a callable: None, or why this host must not commit (a peer failed)
    + then: shell commands (text) to run once the commit succeeded: a running host's
      enable (system.start_steps); never a start (every peer commits at once: one whose
      commit fails keeps the old agreement; deploys.install starts a stopped host in a
      later step, which asks start_refused)

    **Example:**

    .. code:: python

        config_commit(name="Commit the keepalived config on every peer together",
                      paths=settings.paths, generation=generation, refused=lambda: None)
    """
    why = refused() if state.is_executing else None
    if why:
        message = (f"not committed: {why}; every peer stays on the old config (the next run "
                   "prepares it again)")
        yield StringCommand(*uploads.chained([
            transaction(paths, mode="discard", generation=generation),
            state_files.refusal(message)]))
        return
    yield StringCommand(*uploads.chained([
        transaction(paths, mode="commit", generation=generation, links=True),
        *[[step] for step in then]]))


def commit_together(settings, files, changed, everyone, then=(), work=None, tree=None):
    """Add this host's two phases for the instances `changed` (agreement_changes: a host
    plan's ``agreement``), after refusing a peer that is not in the run. `everyone`:
    {host name: Settings}; `work`, `tree`: the host plan's TreeWork and the host's tree
    as probed (for --diff)."""
    peers = peers_of(everyone, settings.host, changed)
    refuse_absent(settings, peers, {active.name for active in state.active_hosts})
    generation = generation_name()
    names = ", ".join(changed)
    changes()[host.name] = changed
    plans()[host.name] = config_prepare(
        name=f"Prepare the keepalived config ({names}: its peers must take it together)",
        files=files, paths=settings.paths, generation=generation,
        hold=hold_seconds(everyone), lock_wait=settings.host_level.lock_wait, work=work,
        tree=tree)
    return config_commit(
        name=f"Commit the keepalived config on every peer together ({names})",
        paths=settings.paths, generation=generation,
        refused=lambda: refused(everyone), then=then)
