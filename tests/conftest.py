"""Fixtures shared by the unit tests. Helpers that are plain functions and constants live in
modules of their own (fakehosts, hostdata, gate, goldens), which the tests import."""

import pathlib
import shutil
import tempfile
from collections import defaultdict

import pytest
from pyinfra.api import Config, Inventory, State
from pyinfra.api.host import Host
from pyinfra.connectors.fake import FakeConnector
from pyinfra.context import ctx_host, ctx_inventory, ctx_state

from .fakehosts import _in_fact, _named
from .gate import write_tree


@pytest.fixture
def root_dir():
    """A new directory whose every parent is root's and not writable by others (not under
    /tmp, which is): transaction.sh refuses a base dir anywhere else (safe_base.sh)."""
    path = pathlib.Path(tempfile.mkdtemp(prefix="pyinfra-keepalived-test.", dir="/run"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def trees(root_dir):
    base = root_dir / "live"
    stage = root_dir / "new"
    write_tree(base, {"keepalived.conf": "# old config\n"})
    return base, stage


@pytest.fixture
def recorder(monkeypatch):
    """Per host: is_fact flags parallel to executed_commands, the ordered stream of
    operation commands and uploads, and the paths uploaded to."""
    # pyinfra memoizes each host's temp dir (the TmpDir fact) by host name, across states:
    # read it afresh, so that what a test sees does not depend on the tests before it.
    monkeypatch.setattr(Host._get_temp_directory, "cache", {})
    # pyinfra's ctx_*.use() does not restore the previous value when the body raises:
    # start each test with no context and put back what was there.
    contexts = [(ctx, ctx.get()) for ctx in (ctx_state, ctx_inventory, ctx_host)]
    for ctx, _ in contexts:
        ctx.reset()
    kinds = defaultdict(list)  # keyed by connector: two tests states may share host names
    stream = defaultdict(list)
    uploaded_to = defaultdict(list)  # upload paths as sent (random parts and all)
    run_shell_command, put_file = FakeConnector.run_shell_command, FakeConnector.put_file

    def recording_run(self, command, *args, **kwargs):
        is_fact = _in_fact()
        result = run_shell_command(self, command, *args, **kwargs)
        kinds[self].append(is_fact)
        if not is_fact:
            stream[self].append(_named(self.executed_commands[-1]))
        return result

    def recording_put(self, filename_or_io, remote_filename, *args, **kwargs):
        stream[self].append(_named(f"upload {remote_filename}"))
        uploaded_to[self].append(remote_filename)
        return put_file(self, filename_or_io, remote_filename, *args, **kwargs)

    monkeypatch.setattr(FakeConnector, "run_shell_command", recording_run)
    monkeypatch.setattr(FakeConnector, "put_file", recording_put)
    yield kinds, stream, uploaded_to
    for ctx, module in contexts:
        ctx.set(module)


@pytest.fixture
def op_context():
    """A pyinfra context (state, inventory, one host: "@fake/host-01", not connected) for
    an operation's generator called alone (`op._inner(...)`) that reads `host` or `state`
    (host.noop, host.log, host.name, state.config.DIFF): the table cases of
    tests/test_operations_table.py. Yields the host (its state: `host.state`)."""
    state = State(Inventory((["@fake/host-01"], {})), Config())
    contexts = [(ctx, ctx.get()) for ctx in (ctx_state, ctx_inventory, ctx_host)]
    this = state.inventory.get_host("@fake/host-01")
    ctx_state.set(state)
    ctx_inventory.set(state.inventory)
    ctx_host.set(this)
    yield this
    for ctx, module in contexts:
        ctx.set(module)
