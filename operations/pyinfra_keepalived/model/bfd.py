"""keepalived's BFD (RFC 5880): `bfd_instance` blocks (`keepalived_bfd_instances`, a
mapping of name to block) and the instances and sync groups that track them (`track_bfds`:
names, each optionally "NAME weight W", like track_files).

Every block is read with `reading.read_block`; the rules between keys are the named `check_*`
functions below. `read_bfd` is what `validate.read_host` calls, after `read_tracking`.
"""

import ipaddress

from pydantic import Field

from .problems import public_keys
from .reading import Block
from .tracking_blocks import TrackedItem, check_group, check_instance, read_blocks
from .types import Derived, Flag, IpAddress, Name, whole

BFD = "keepalived_bfd_instances"
PORTS = "UDP 3784 (single hop) and 4784 (multi-hop)"


def milliseconds(low, high):
    """An interval of keepalived's BFD: whole milliseconds low-high (keepalived 2.2 reads
    microseconds too, 2.1.5 refuses a fraction)."""
    return whole(low, high, f"must be a whole number of milliseconds {low}-{high} "
                            "(keepalived 2.1.5 reads no fraction)")


class BfdInstance(Block):
    """A `bfd_instance NAME { }` block (`keepalived_bfd_instances.NAME`): a BFD session
    with a neighbor, whose state the instances that track it follow."""

    name: Derived[str] = Field(None, description="its key in keepalived_bfd_instances")
    neighbor_ip: IpAddress = Field(description="the neighbor's address (required)")
    source_ip: IpAddress | None = Field(None, description="this host's address the session "
                                        "uses, of the neighbor's family")
    min_rx: milliseconds(1, 1000) | None = Field(None, description="required minimum "
                                                 "receive interval, ms (default 10)")
    min_tx: milliseconds(1, 1000) | None = Field(None, description="desired minimum "
                                                 "transmit interval, ms (default 10)")
    idle_tx: milliseconds(1000, 10000) | None = Field(None, description="transmit interval "
                                                      "while the session is down, ms "
                                                      "(default 1000)")
    multiplier: whole(1, 10) | None = Field(None, description="packets missed before the "
                                            "session is down (default 5)")
    passive: Flag = Field(False, description="wait for the neighbor to start the session")
    ttl: whole(1, 255) | None = Field(None, description="IPv4: TTL of the packets sent "
                                      "(default 255)")
    hoplimit: whole(1, 255) | None = Field(None, description="IPv6: hop limit of the "
                                           "packets sent (default 64)")
    max_hops: whole(0, 255) | None = Field(None, description="how much the TTL/hop limit "
                                           "of a packet received may have dropped (default "
                                           "0; 255: not checked)")
    weight: whole(-253, 253) = Field(0, description="added to the priority of the instances "
                                     "that track it (>0: while up; <0: while down); 0: down "
                                     "means FAULT")

    @property
    def options(self):
        """((keyword, value), ...) of the optional keywords set, in keepalived's order."""
        return tuple((key, getattr(self, key)) for key in (
            "source_ip", "min_rx", "min_tx", "idle_tx", "multiplier", "ttl", "hoplimit",
            "max_hops") if getattr(self, key) is not None)


BfdInstances = dict[Name, BfdInstance]
public_keys(BfdInstance.keys())


def check_bfd_instance(problems, bfd):
    """source_ip of the neighbor's family; ttl for IPv4 only, hoplimit for IPv6 only;
    max_hops at most the ttl / hoplimit (keepalived -t complains otherwise); and
    a warning that the host firewall must let the neighbor's BFD in (the deploy opens VRRP
    only)."""
    where = f"{BFD}.{bfd.name}"
    family = ipaddress.ip_address(bfd.neighbor_ip).version
    if bfd.source_ip is not None and ipaddress.ip_address(bfd.source_ip).version != family:
        problems.error(f"{where}.source_ip", bfd.source_ip, f"is not IPv{family} like "
                       f"neighbor_ip ({bfd.neighbor_ip}): give an address of the same family")
    wrong = ("hoplimit", 6) if family == 4 else ("ttl", 4)
    if getattr(bfd, wrong[0]) is not None:
        problems.error(f"{where}.{wrong[0]}", getattr(bfd, wrong[0]), f"applies to IPv"
                       f"{wrong[1]} only and neighbor_ip is IPv{family}: use "
                       f"{'ttl' if family == 4 else 'hoplimit'}")
    limit_key, default = ("ttl", 255) if family == 4 else ("hoplimit", 64)
    limit = getattr(bfd, limit_key) or default
    if bfd.max_hops is not None and bfd.max_hops > limit:
        problems.error(f"{where}.max_hops", bfd.max_hops, f"is more than {limit_key} "
                       f"({limit}{'' if getattr(bfd, limit_key) else ', its default'}): "
                       f"keepalived lowers it; set it to at most {limit} or raise "
                       f"{limit_key}")
    problems.warn(f"{where}.neighbor_ip", bfd.neighbor_ip, f"BFD uses {PORTS} from the neighbor, which the "
                  "deploy's firewall rules (VRRP only) do not open: make sure the host "
                  f"firewall lets them in from {bfd.neighbor_ip}")


def read_bfd(problems, data, instances, sync_groups):
    """(instances, sync groups, bfd instances) of a host, each a tuple: the instances and
    sync groups (read, `tracked`) with their track_bfds checked like track_files (names
    declared, weight 0 where keepalived ignores weights), the blocks of
    keepalived_bfd_instances."""
    instances, sync_groups = (tuple(block.model_copy(update={"track_bfds": tuple(map(
        TrackedItem.model_validate, block.track_bfds))}) for block in blocks)
        for blocks in (instances, sync_groups))
    given = data.get(BFD) or {}
    blocks = read_blocks(problems, BFD, BfdInstance, given)
    for bfd in blocks.values():
        check_bfd_instance(problems, bfd)
    names = {name for name in given if isinstance(name, str)} if isinstance(given, dict) \
        else set()
    kinds = (("track_bfds", blocks, BFD, names),)
    synced = {name for group in sync_groups for name in group.instances}
    for index, instance in enumerate(instances):
        check_instance(problems, f"keepalived_vrrp_instances[{index}]", instance, kinds,
                       instance.name in synced)
    for group in sync_groups:
        check_group(problems, f"keepalived_sync_groups.{group.name}", group, kinds,
                    instances)
    return instances, sync_groups, tuple(blocks.values())
