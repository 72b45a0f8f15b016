"""Waiting for something to happen on the test hosts, with a bound: never a fixed sleep."""

import time


def wait_for(condition, timeout, interval=0.05, since=None):
    """Poll `condition` until it is true; return the seconds since `since` (a
    time.monotonic(), default now), or None when `timeout` seconds after it passed."""
    start = time.monotonic() if since is None else since
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(interval)
    return None
