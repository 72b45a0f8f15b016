"""How long VRRP should take to move a VIP, by the RFCs, to set measured times beside.

RFC 3768 (VRRPv2) 6.1 and RFC 5798 (VRRPv3) 6.1: a backup declares the master dead after
Master_Down_Interval = 3 x Advertisement_Interval + Skew_Time without an advert. A master
that stops gracefully sends a priority-0 advert, and the backup takes over after Skew_Time.
"""


def skew_time(priority, advert_int=1.0, version=2):
    """(256 - priority) / 256 s in VRRPv2; scaled by the advert interval in VRRPv3."""
    skew = (256 - priority) / 256
    return skew * advert_int if version == 3 else skew


def master_down_interval(priority, advert_int=1.0, version=2):
    """How long the backup of `priority` waits after the master's last advert."""
    return 3 * advert_int + skew_time(priority, advert_int, version)


def check_failure_time(fall, interval, priority, advert_int=1.0, version=2):
    """A tracked check failing from one moment: `fall` failed runs, one per `interval`,
    lower the master's priority; the backup then waits out Master_Down_Interval, as it
    discards the adverts of lower priority that the master still sends."""
    return fall * interval + master_down_interval(priority, advert_int, version)
