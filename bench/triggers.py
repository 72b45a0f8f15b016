"""One-shot actions that a listener thread runs the moment it hears a matching event
(bench.adverts: a VRRP advert; bench.execs: a program start). The failover bench places
its faults with them.

    triggers = Triggers()
    done = triggers.add(lambda event: event == wanted, action)   # in the caller
    triggers.fire(stamp, event)                                  # in the listener thread
    done.result(timeout=10)  # (stamp, what action returned); done.cancel() to give up
"""

import concurrent.futures
import threading


class Triggers:
    def __init__(self):
        self._pending = []  # (matches, action, future)
        self._lock = threading.Lock()

    def __bool__(self):
        return bool(self._pending)

    def add(self, matches, action):
        """Run `action()` at the first event for which `matches(event)` is true. Returns a
        Future of (the event's time, what action returned)."""
        future = concurrent.futures.Future()
        with self._lock:
            self._pending.append((matches, action, future))
        return future

    def fire(self, stamp, event):
        """Run, in this thread, the action of every trigger `event` matches, once."""
        with self._lock:
            waiting = list(self._pending)
        for entry in waiting:
            matches, action, future = entry
            if not matches(event):
                continue
            with self._lock:
                self._pending.remove(entry)
            if not future.set_running_or_notify_cancel():
                continue  # given up by the caller
            try:
                future.set_result((stamp, action()))
            except Exception as error:  # handed to the waiting caller
                future.set_exception(error)
