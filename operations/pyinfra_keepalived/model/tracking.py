"""What the items a VRRP instance tracks (its check scripts, its interfaces) do to it,
from the inventory: the priority it has while they are all well, and how long its check
scripts take to give their first verdict after keepalived (re)starts. One place for both,
shared by the handover's health check and timing (operations.handover), the drill and
the settle time of a start (peers.settle_seconds)."""

from .tracking_blocks import weight_of

HIGHEST = 254  # keepalived clamps an effective priority (below the address owner's 255)


def raised_by(instance, scripts, processes=(), bfds=()):
    """How much what `instance` tracks raises its priority while it is all well: the
    positive weights of the check scripts it tracks (`scripts`: the host's CheckScripts),
    of its tracked interfaces, of the processes it tracks (`processes`: the host's
    TrackProcesses) and of the BFD sessions it tracks (`bfds`: the host's BfdInstances;
    for both, the instance's own weight for one, else the block's); a negative weight
    counts only while its item fails. (A tracked file adds what it holds: while all is
    well, nothing.)"""
    weights = sum(max(0, script.weight or 0) for script in tracked_scripts(instance, scripts))
    for items, blocks in ((instance.track_processes, processes),
                          (instance.track_bfds, bfds)):
        by_name = {block.name: block for block in blocks}
        weights += sum(max(0, weight_of(item, by_name)) for item in items)
    return weights + sum(max(0, track.weight or 0) for track in instance.track_interfaces)


def healthy_priority(priority, raised):
    """The effective priority of an instance of `priority` while all it tracks is well
    (`raised`: raised_by), as keepalived clamps it: at most 254; the address owner's 255
    ignores tracking."""
    return priority if priority == 255 else min(HIGHEST, priority + raised)


def tracked_scripts(instance, scripts):
    """The host's CheckScripts (`scripts`) that `instance` tracks."""
    return [script for script in scripts if script.vrrp_name in instance.track_scripts]


def first_verdict_seconds(instance, scripts):
    """Seconds after a start of keepalived until every check script `instance` tracks
    (`scripts`: the host's CheckScripts) has its first verdict: each is GOOD after `rise`
    runs `interval` apart, the last of which may take its `timeout`; the slowest counts."""
    return max([script.interval * script.rise + (script.timeout or 0)
                for script in tracked_scripts(instance, scripts)], default=0)
