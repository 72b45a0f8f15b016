"""Listen to the VRRP adverts on a cluster's docker bridge, from the machine (passively,
on our own network), with kernel timestamps: the theory counts from the master's last
advert, and this says when that was."""

import socket
import struct
import threading

from .stats import parse_vrrp
from .triggers import Triggers

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
ETH_P_ALL = 0x0003


def bridge(network):
    """The Linux bridge device of a docker network."""
    return (network.attrs.get("Options", {}).get("com.docker.network.bridge.name")
            or f"br-{network.id[:12]}")


class AdvertListener:
    """with AdvertListener("br-1234") as listener: ...; listener.adverts ->
    [(timestamp, source address, priority)]"""

    def __init__(self, device):
        self.device, self.adverts = device, []
        self._stop = threading.Event()
        self._triggers = Triggers()  # fired with each advert's source address

    def __enter__(self):
        """Starts listening; without the right to (not root), hears nothing."""
        self._thread = None
        try:
            self._socket = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                         socket.htons(ETH_P_ALL))
        except PermissionError:
            return self
        self._socket.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self._socket.bind((self.device, 0))
        self._socket.settimeout(0.2)
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()
        return self

    @property
    def listening(self):
        return self._thread is not None

    def on_next(self, source, action):
        """Run `action()` in the listener's thread right after the next advert from
        `source` is heard (well within a millisecond of it). Returns a Future of (the
        advert's time, what action returned); cancel it to give up."""
        return self._triggers.add(lambda heard_from: heard_from == source, action)

    def _listen(self):
        while not self._stop.is_set():
            try:
                frame, ancillary, _, _ = self._socket.recvmsg(2048, socket.CMSG_SPACE(16))
            except socket.timeout:
                continue
            advert = parse_vrrp(frame)
            if advert is None:
                continue
            stamp = None
            for level, kind, data in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    seconds, nanoseconds = struct.unpack("qq", data[:16])
                    stamp = seconds + nanoseconds / 1e9
            if stamp is not None:
                self.adverts.append((stamp, *advert))
                self._triggers.fire(stamp, advert[0])

    def __exit__(self, *exc):
        if self._thread:
            self._stop.set()
            self._thread.join(timeout=2)
            self._socket.close()
