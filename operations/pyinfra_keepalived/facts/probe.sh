# The probe (facts/probe.py, KeepalivedHost): a "## SECTION" line, then what the host
# says, for each part the deploy compares against. Set before it: probe_user (the script
# user). probe.py adds the sections of the config tree, the upload leftovers and the
# host-level state after it.
echo '## user'; getent passwd "$probe_user"
echo '## package'
if command -v dpkg-query >/dev/null 2>&1; then
    dpkg-query -W -f='${db:Status-Abbrev}|${Version}\n' keepalived 2>/dev/null
elif command -v rpm >/dev/null 2>&1; then
    rpm -q --qf 'ii |%{VERSION}-%{RELEASE}\n' keepalived 2>/dev/null
fi
# (apt's lists: their age is read by the package command itself, when it runs)
# KEY=VALUE lines; UnitFileState is empty for a missing unit, NeedDaemonReload yes when a
# unit file or drop-in changed on disk since systemd loaded it
echo '## service'
systemctl show -p ActiveState -p UnitFileState -p NeedDaemonReload keepalived.service \
    2>/dev/null
