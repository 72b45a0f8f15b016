# The probe (facts/probe.py, KeepalivedHost): a "## SECTION" line, then what the host
# says, for each part the deploy compares against. Set before it: probe_user (the script
# user) and apt_stamp (the file apt's refresh touches). probe.py adds the sections of the
# config tree, the upload leftovers and the host-level state after it.
echo '## user'; getent passwd "$probe_user"
echo '## package'
if command -v dpkg-query >/dev/null 2>&1; then
    dpkg-query -W -f='${db:Status-Abbrev}|${Version}\n' keepalived 2>/dev/null
elif command -v rpm >/dev/null 2>&1; then
    rpm -q --qf 'ii |%{VERSION}-%{RELEASE}\n' keepalived 2>/dev/null
fi
# the time now, then that of apt's last refresh (the stamp's mtime), as epoch seconds;
# nothing when apt's lists were never refreshed (no stamp, as on dnf hosts)
echo '## apt-cache-age'; [ -e "$apt_stamp" ] && date +%s && stat -c %Y "$apt_stamp"
# ActiveState, then UnitFileState (systemd's order; empty for a missing unit)
echo '## service'
systemctl show -p ActiveState -p UnitFileState --value keepalived.service 2>/dev/null
