"""Hear every program start on the machine (Linux's process-events connector, as root)
and act right after one starts in a given container: the failover bench places a
check's fault right after the check ran.

    with ExecWatcher() as watcher:
        done = watcher.on_next(container_id, ("check_ssh.sh",), action)
        done.result(timeout=10)  # what action() returned
"""

import errno
import os
import socket
import struct
import threading
import time

from .triggers import Triggers

NETLINK_CONNECTOR = 11
CN_IDX_PROC = CN_VAL_PROC = 1
PROC_CN_MCAST_LISTEN = 1
PROC_EVENT_EXEC = 0x00000002
NLMSG_DONE = 3
NLMSG_HEADER = struct.Struct("=IHHII")     # length, type, flags, sequence, port
CN_MSG_HEADER = struct.Struct("=IIIIHH")   # idx, val, sequence, ack, length, flags
PROC_EVENT = struct.Struct("=IIQII")       # what, cpu, timestamp, pid, tgid (exec)


class ExecWatcher:
    def __init__(self):
        self._triggers = Triggers()  # fired with each started program's pid
        self._stop = threading.Event()

    def __enter__(self):
        """Starts listening; raises PermissionError when not root."""
        self._socket = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
        # Every program start on the machine comes through: room for bursts (a converge).
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        try:
            self._socket.bind((0, CN_IDX_PROC))
        except PermissionError as error:
            self._socket.close()
            raise PermissionError("the kernel's process events need root") from error
        listen = struct.pack("=I", PROC_CN_MCAST_LISTEN)
        message = CN_MSG_HEADER.pack(CN_IDX_PROC, CN_VAL_PROC, 0, 0, len(listen), 0) + listen
        self._socket.send(NLMSG_HEADER.pack(NLMSG_HEADER.size + len(message), NLMSG_DONE, 0,
                                            0, os.getpid()) + message)
        self._socket.settimeout(0.2)
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()
        return self

    def on_next(self, container_id, parts, action):
        """Run `action()` in the watcher's thread as soon as a program whose command line
        contains one of `parts` starts in the container `container_id`. Returns a Future
        of (the start's time, what action returned); cancel it to give up."""
        return self._triggers.add(lambda pid: _started_in(pid, container_id, parts), action)

    def _listen(self):
        header = NLMSG_HEADER.size + CN_MSG_HEADER.size
        while not self._stop.is_set():
            try:
                data = self._socket.recv(4096)
            except socket.timeout:
                continue
            except OSError as error:  # ENOBUFS: events were dropped; go on with the next
                if error.errno == errno.ENOBUFS:
                    continue
                raise
            stamp = time.time()
            if len(data) < header + PROC_EVENT.size:
                continue
            what, _, _, pid, _ = PROC_EVENT.unpack_from(data, header)
            if what == PROC_EVENT_EXEC and self._triggers:
                self._triggers.fire(stamp, pid)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=2)
        self._socket.close()


def _started_in(pid, container_id, parts):
    """Whether process `pid` runs in the container and its command line has one of
    `parts` (False when it is already gone)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        with open(f"/proc/{pid}/cgroup") as f:
            cgroups = f.read()
    except OSError:
        return False
    return container_id in cgroups and any(part in cmdline for part in parts)
