: keepalived-host-state
# The host-level state around keepalived (facts/host_level.py, KeepalivedHostState), a line
# per answer. Set before it, each a list of shell words quoted by host_level.py:
#   firewall_status  the command that prints "BACKEND ok|missing|stale|missing+stale" (none: no firewall probe)
#   hashed           files whose sha256 is wanted (missing files print nothing)
#   unit             yes: print `systemctl is-enabled keepalived.service` as "unit STATE"
#   lo               yes: print lo's addresses (ip -br addr show dev lo)
#   grepped          files (and /proc/sys values) whose lines are wanted
#   assigned         files of which only the lines that match $assignment are wanted
if [ -n "$firewall_status" ]; then printf 'firewall '; eval "$firewall_status"; fi
[ -n "$hashed" ] && eval "sha256sum $hashed" 2>/dev/null
# lo's addresses, on one line: "lo STATE ADDRESS/PREFIX ..."
[ "$lo" = yes ] && ip -br addr show dev lo 2>/dev/null
[ "$unit" = yes ] && printf 'unit %s\n' "$(systemctl is-enabled keepalived.service 2>/dev/null)"
# One grep reads every file asked for and every sysctl value, a line each as PATH:LINE (a
# process for each would cost more than the reading); -a: every line, whatever bytes it
# holds (as text, not "binary file matches").
[ -n "$grepped" ] && eval "grep -aH '' $grepped" 2>/dev/null
# keepalived's options files: only the lines that set its options (the rest stays on the
# host), as text: a byte that is not printable ASCII, tab or CR arrives as ? (pyinfra
# reads each line as UTF-8: another byte there stopped the probe; option words are ASCII)
[ -n "$assigned" ] && eval "grep -aHE \"\$assignment\" $assigned" 2>/dev/null \
  | LC_ALL=C tr -c '\11\12\15\40-\176' '?'
true
