"""Unit tests for the shipped SSH banner check (templates/scripts/check_ssh_banner.sh.j2):
its vars' validation, and the rendered script run by a real bash against local TCP
servers (one that greets like sshd, one that accepts and stays silent like a hung sshd,
one that greets with something else, and a closed port)."""

import os
import socket
import subprocess
import threading
import time

import pytest

from pyinfra_keepalived.render.config import script_content

from .hostdata import DROP, assert_error, assert_valid, host_01, script

pytestmark = pytest.mark.unit

BANNER = {"name": "check_sshd.sh", "vrrp_name": "check_ssh", "template": "check_ssh_banner.sh.j2",
          "service_name": DROP}


def banner_check(**overrides):
    return script(**{**BANNER, **overrides})


def test_defaults_local_port_22_and_a_second():
    content = script_content(assert_valid(host_01(scripts=[banner_check()])).scripts[0])

    assert content.startswith("#!/bin/bash\n")
    assert "exec timeout --kill-after=1 1 /bin/bash -c '" in content
    assert content.endswith("' check_ssh_banner 127.0.0.1 22\n")


def test_default_wait_is_half_a_short_interval():
    content = script_content(assert_valid(host_01(scripts=[banner_check(interval=1)])).scripts[0])

    assert "exec timeout --kill-after=1 0.5 /bin/bash" in content


def test_vars_are_rendered_quoted():
    data = host_01(scripts=[banner_check(vars={"address": "::1", "port": 2222,
                                               "banner_timeout": 1.5})])
    content = script_content(assert_valid(data).scripts[0])

    assert "exec timeout --kill-after=1 1.5 /bin/bash" in content
    assert content.endswith("' check_ssh_banner ::1 2222\n")


@pytest.mark.parametrize("var, value, allowed", [
    ("port", 0, "must be a whole number 1-65535"),
    ("port", 65536, "must be a whole number 1-65535"),
    ("port", "22", "must be a whole number 1-65535"),
    ("port", True, "must be a whole number 1-65535"),
    ("address", "localhost", "must be an IPv4 or IPv6 address without prefix"),
    ("address", "127.0.0.1; reboot", "must be an IPv4 or IPv6 address without prefix"),
    ("banner_timeout", 0, "must be a number of seconds with at most 2 decimals, 0.01-4294"),
    ("banner_timeout", "1", "must be a number of seconds with at most 2 decimals, 0.01-4294"),
    ("banner_timeout", 2, "must be less than the check's interval (2 s): keepalived counts "
                          "a check still running then as failed"),
])
def test_bad_vars_are_errors_naming_host_and_key(var, value, allowed):
    assert_error(host_01(scripts=[banner_check(vars={var: value})]),
                 f"host-01: keepalived_check_scripts[0].vars.{var} = {value!r}: {allowed}")


def test_wait_must_also_end_before_the_scripts_timeout():
    assert_error(host_01(scripts=[banner_check(interval=5, timeout=1,
                                               vars={"banner_timeout": 1})]),
                 "host-01: keepalived_check_scripts[0].vars.banner_timeout = 1: must be less "
                 "than the check's timeout (1 s)")


def test_unknown_var_is_an_error_with_a_suggestion():
    assert_error(host_01(scripts=[banner_check(vars={"prot": 22})]),
                 "host-01: keepalived_check_scripts[0].vars.prot: unknown key (did you "
                 "mean 'port'?)")


# -- the rendered script, run by a real bash ------------------------------------------------

class Server:
    """A TCP server on 127.0.0.1 that sends `greeting` to each client (None: accepts and
    says nothing, as a hung sshd whose kernel still completes the handshake)."""

    def __init__(self, greeting):
        self.greeting, self.received = greeting, []
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                client, _ = self.socket.accept()
            except OSError:
                return
            with client:
                if self.greeting is None:
                    time.sleep(5)
                    continue
                client.sendall(self.greeting)
                client.settimeout(2)
                try:
                    self.received.append(client.recv(100))
                except OSError:
                    pass


@pytest.fixture
def run_check(tmp_path):
    def run(port, banner_timeout=0.5):
        data = host_01(scripts=[banner_check(vars={"port": port,
                                                   "banner_timeout": banner_timeout})])
        path = tmp_path / "check_sshd.sh"
        path.write_text(script_content(assert_valid(data).scripts[0]))
        os.chmod(path, 0o755)
        start = time.monotonic()
        code = subprocess.run([str(path)], capture_output=True, timeout=10).returncode
        return code, time.monotonic() - start
    return run


def test_an_ssh_banner_passes_and_the_check_identifies_itself(run_check):
    server = Server(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")

    assert run_check(server.port)[0] == 0
    time.sleep(0.2)
    assert server.received == [b"SSH-2.0-keepalived_check\r\n"]


def test_a_silent_server_fails_within_the_banner_timeout(run_check):
    code, seconds = run_check(Server(None).port, banner_timeout=0.5)

    assert code == 124  # timeout(1): the wait ran out
    assert 0.5 <= seconds < 1.5


def test_another_protocol_fails(run_check):
    # no SSH-2.0- line: it reads on until the server closes or the wait runs out
    assert run_check(Server(b"HTTP/1.1 400 Bad Request\r\n\r\n").port)[0] != 0


def test_a_closed_port_fails_at_once(run_check):
    free = socket.create_server(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()

    code, seconds = run_check(port)

    assert code == 1 and seconds < 0.5
