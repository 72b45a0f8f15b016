"""The gate's verdict on what `keepalived -t` said, per version (operations/config_test.sh):
keepalived 2.1.5 (Debian 11) exits 0 whatever its -t finds, so on it every line it prints
is a refusal, but the one later versions only log; 2.2 and later are judged by their exit
status, as before. Table cases of config_verdict (version, exit status and messages in,
verdict out), then the whole gate (transaction.sh) with a fake `keepalived` first on PATH
that prints what 2.1.5 printed for the same mistakes (lines read from keepalived 2.1.5 in
a bullseye test host: `keepalived -t -f FILE`, the same with -l)."""

import subprocess

import pytest

from pyinfra_keepalived.operations.config_tree import CONFIG_TEST

from .gate import live, rendered, run_transaction, write_tree

pytestmark = pytest.mark.unit

V2_1_5 = "Keepalived v2.1.5 (07/13,2020)"
V2_2_7 = "Keepalived v2.2.7 (01/16,2022)"
V2_3_3 = "Keepalived v2.3.3 (03/30,2025)"
FILE = "(/etc/keepalived/conf.d/20-vrrp_instances.conf: Line 16)"
LINK_LOCAL = "(VI_6) the first IPv6 VIP address must be link local"
# what 2.1.5's -t printed (its exit status: 0 for each)
SAID_BY_2_1_5 = {
    "unknown keyword": f"{FILE} Unknown keyword 'advert_intervall'",
    "bad value": f"{FILE} invalid number 'abc'\n"
                 f"{FILE} (VI_1) Priority not valid! must be between 1 & 255. Using default 100",
    "VRID out of range": f"{FILE} number '256' outside range [1, 255]\n"
                         f"{FILE} (VI_1): VRID '256' not valid - must be between 1 & 255\n"
                         "(VI_1) the virtual router id must be set",
    "missing track script": "Disabling track script chk since not found/accessible",
    "unknown state": f"{FILE} (VI_1) unknown state 'BAKUP', defaulting to BACKUP",
    "two instances, one VRID": "VI_1 and VI_2 both use VRID 51 with IPv4 on interface eth0",
    "password truncated": f"{FILE} Truncating auth_pass to 8 characters",
}

# (version line, exit status, what it said) -> verdict
CASES = {
    **{f"2.1.5, {case}": (V2_1_5, 0, said, 5) for case, said in SAID_BY_2_1_5.items()},
    "2.1.5, nothing said": (V2_1_5, 0, "", 0),
    # 2.2 and later only log it (without vrrp_strict): "... should be link local"
    "2.1.5, a first IPv6 VIP not link local": (V2_1_5, 0, LINK_LOCAL, 0),
    "2.1.5, that and an error": (V2_1_5, 0, f"{LINK_LOCAL}\n{SAID_BY_2_1_5['bad value']}", 5),
    "2.1.5, an error in every reading (exit 3)": (
        V2_1_5, 3, f"{FILE} *** Configuration line starting `auth_pass` is missing a "
                   "parameter after keyword `auth_pass` at word position 2", 3),
    "2.1.5, a crash (139)": (V2_1_5, 139, "There are 1 missing '}'s or extra '{'s", 139),
    "2.0.20 reads as 2.1": ("Keepalived v2.0.20 (01/22,2020)", 0,
                            SAID_BY_2_1_5["unknown keyword"], 5),
    "2.2.7, accepted": (V2_2_7, 0, "", 0),
    "2.2.7, refused": (V2_2_7, 5, SAID_BY_2_1_5["unknown keyword"], 5),
    "2.2.7, a security violation": (V2_2_7, 6, "SECURITY VIOLATION - scripts are being "
                                               "executed but script_security not enabled.", 6),
    "2.2.7, its exit status is the verdict": (V2_2_7, 0, "a line it printed", 0),
    "2.3.3, accepted": (V2_3_3, 0, "", 0),
    "2.3.3, refused": (V2_3_3, 5, SAID_BY_2_1_5["unknown keyword"], 5),
    "2.10 is no 2.1": ("Keepalived v2.10.0 (01/01,2030)", 0, "a line it printed", 0),
    "no version line": ("", 0, "a line it printed", 0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_verdict(case):
    version, status, said, verdict = CASES[case]
    result = subprocess.run(
        ["sh", "-c", CONFIG_TEST + 'output=$3; config_verdict "$1" "$2"', "sh", version,
         str(status), said], capture_output=True, text=True)
    assert (result.returncode, result.stdout + result.stderr) == (verdict, "")


# -- the gate (transaction.sh) with a fake keepalived 2.1.5 --

def fake_keepalived(directory, said):
    """`keepalived` in `directory` that answers as 2.1.5 does: --version, --help (no -e),
    and -t -f FILE printing `said` (lines; "DIR" stands for FILE's directory) and exiting
    0; returns `directory`."""
    directory.mkdir(exist_ok=True)
    script = directory / "keepalived"
    script.write_text(f"""#!/bin/sh
case "$1" in
  --version) echo '{V2_1_5}' >&2; exit 0 ;;
  --help) echo 'Usage: keepalived [OPTION...]' >&2; echo '  -t, --config-test' >&2; exit 0 ;;
esac
[ "$1 $2" = "-t -f" ] || exit 99
dir=${{3%/*}}
cat <<EOF | sed "s#DIR#$dir#g" >&2
{said}
EOF
exit 0
""")
    script.chmod(0o755)
    return directory


def test_2_1_5_refusing_what_it_says_nothing_goes_live(trees, tmp_path):
    """The unknown keyword's line, its file named as live (not the test's copy)."""
    base, stage = trees
    write_tree(stage, rendered(base))
    said = "(DIR/conf.d/20-vrrp_instances.conf: Line 16) Unknown keyword 'advert_intervall'"
    fake = fake_keepalived(tmp_path / "bin", said)
    before = live(base)

    result = run_transaction(stage, base, path=fake)

    assert result.returncode == 5, result.stdout + result.stderr
    assert "keepalived -t rejected the new config (exit 5); the live config was NOT " \
           "changed" in result.stderr
    assert (f"({base}/conf.d/20-vrrp_instances.conf: Line 16) Unknown keyword "
            "'advert_intervall'") in result.stderr
    assert ".check-" not in result.stderr
    assert live(base) == before


def test_2_1_5_link_local_note_is_accepted(trees, tmp_path):
    """What later versions only log does not stop the config: it goes live, the line shown."""
    base, stage = trees
    write_tree(stage, rendered(base))
    fake = fake_keepalived(tmp_path / "bin", LINK_LOCAL)

    result = run_transaction(stage, base, path=fake)

    assert result.returncode == 0, result.stderr
    assert f"keepalived -t: {LINK_LOCAL}" in result.stdout
    assert live(base) != {} and (base / ".current").is_symlink()


def test_a_secret_keepalived_quotes_is_masked(trees, tmp_path):
    """keepalived quotes a line it cannot parse whole (an unterminated quote): the
    auth_pass value in it is masked as everywhere (model.hidden)."""
    base, stage = trees
    write_tree(stage, rendered(base))
    said = ("(DIR/conf.d/20-vrrp_instances.conf: Line 19) Unterminated quote "
            "'auth_pass \"s3cretQ'")
    fake = fake_keepalived(tmp_path / "bin", said)

    result = run_transaction(stage, base, path=fake)

    assert result.returncode == 5
    assert "s3cretQ" not in result.stdout + result.stderr
    assert (f"({base}/conf.d/20-vrrp_instances.conf: Line 19) Unterminated quote "
            "'auth_pass ********") in result.stderr
