"""The coverage example (tests/coverage_example.py: every keyword the model types) is
accepted by the real `keepalived -t` of Debian 11 (2.1.5) and 13 (2.3.x): one test-host
container per release with keepalived from the release's apt, fed the rendered trees of both
hosts. (2.2.7, Debian 12, runs it through the gate in tests/test_conf_gate.py.)

keepalived 2.1.5's -t exits 0 whatever it finds (unknown keywords included); it prints
each config error on stderr (-l adds nothing under -t: its log is off then): the test
reads what it says, and a control shows that an unknown keyword is seen (the deploy's gate
refuses on those lines: operations/config_test.sh)."""

import os
import subprocess
import tempfile
import uuid

import pytest

from pyinfra_keepalived.model.fleet import check_hosts
from pyinfra_keepalived.render import config as render
from testhosts.cluster import LABEL
from testhosts.engine import ensure_engine
from testhosts.image import ensure_image

from ..coverage_example import COVERAGE_HOSTS

pytestmark = pytest.mark.e2e

ROOT = "/tmp/coverage"  # where the trees go in the container
# What keepalived says of the coverage example that is no refusal of a keyword: 2.1.5 wants
# the first IPv6 VIP of a VRRPv3 instance link-local (a warning; 2.2.7 and 2.3.x do not).
KNOWN = {"bullseye": {"(VI_6) the first IPv6 VIP address must be link local"}, "trixie": set()}


@pytest.fixture(scope="module", params=["bullseye", "trixie"])
def keepalived_host(request):
    """(container name, release): a container of the release's test-host image with its
    keepalived installed; removed afterwards."""
    client = ensure_engine()
    name = f"e2e-kt-{request.param}-{uuid.uuid4().hex[:8]}"
    client.containers.run(ensure_image(client, request.param), ["sleep", "infinity"],
                          name=name, detach=True, labels={LABEL: name})
    try:
        install = subprocess.run(
            ["docker", "exec", "-e", "DEBIAN_FRONTEND=noninteractive", name, "sh", "-c",
             "apt-get update -qq && apt-get install -y -qq --no-install-recommends keepalived"],
            capture_output=True, text=True, timeout=600)
        assert install.returncode == 0, install.stdout + install.stderr
        yield name, request.param
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def config_test(name, files):
    """(exit code, lines said) of `keepalived -t -l` on `files` ({path: ManagedFile}, paths
    under /etc/keepalived) in container `name`, put under ROOT."""
    with tempfile.TemporaryDirectory() as tmp:
        for path, file in files.items():
            target = tmp + path
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w") as handle:
                handle.write(file.content.replace("/etc/keepalived", ROOT + "/etc/keepalived"))
            os.chmod(target, int(file.mode, 8))
        for directory, _, _ in os.walk(tmp):
            os.chmod(directory, 0o755)
        subprocess.run(["docker", "exec", name, "rm", "-rf", ROOT], check=True)
        subprocess.run(["docker", "cp", tmp, f"{name}:{ROOT}"], check=True,
                       capture_output=True)
    result = subprocess.run(["docker", "exec", name, "keepalived", "-t", "-l", "-f",
                             f"{ROOT}/etc/keepalived/keepalived.conf"],
                            capture_output=True, text=True, timeout=60)
    return result.returncode, {line.strip() for line in
                               (result.stdout + result.stderr).splitlines() if line.strip()}


def coverage_files(host):
    return render.config_files(check_hosts(COVERAGE_HOSTS, warn=lambda message: None)[host])


@pytest.mark.parametrize("host", ["host-01", "host-02"])
def test_every_typed_keyword_is_accepted(keepalived_host, host):
    name, release = keepalived_host
    code, said = config_test(name, coverage_files(host))
    assert code == 0, said
    assert said <= KNOWN[release], said - KNOWN[release]


def test_the_check_sees_an_unknown_keyword(keepalived_host):
    name, release = keepalived_host
    files = coverage_files("host-01")
    path = next(path for path in files if path.endswith("00-global_defs.conf"))
    files[path] = render.ManagedFile(path=path, mode="644", content=files[path].content.replace(
        "global_defs {\n", "global_defs {\n    frobnicate_keyword 1\n"))
    code, said = config_test(name, files)
    assert any("Unknown keyword 'frobnicate_keyword'" in line for line in said), said
    assert code == (0 if release == "bullseye" else 5)  # 2.1.5 exits 0 regardless
