# Install or upgrade keepalived (operations/operations/system.py keepalived_package) under the
# deploy lock (lock.sh and state_files.sh come first):
#
#   package.sh RUNNING MARKER POLICY COMMAND
#
# RUNNING (yes|no): keepalived ran when probed. Then the restart-pending marker MARKER is
# written first: the deploy restarts keepalived itself, one host at a time, and a run that
# dies after the install leaves the restart to the next run. (A fresh install is started
# later, with everything on disk: no marker.)
# POLICY: /usr/sbin/policy-rc.d on apt hosts, "" on dnf. While COMMAND runs it tells the
# package's maintainer scripts (invoke-rc.d, deb-systemd-invoke) not to start or restart
# keepalived (exit 101) and lets every other service be (exit 0). It denies only while
# this shell lives ([ -d /proc/PID ]) and a deploy holds the host's lock, so a SIGKILLed
# run cannot leave it blocking, and is
# removed when this shell ends (EXIT, and HUP/INT/TERM); the next run also removes a
# leftover one. An operator's own policy-rc.d is never replaced: the install runs under it.
# COMMAND: the install command line, built (and quoted) by the deploy.
running=$1 marker=$2 policy=$3 command=$4

if [ "$running" = yes ]; then
  mark_pending "$marker" package || exit 1
fi
if [ -n "$policy" ] && [ -e "$policy" ] && ! grep -qxF "$policy_tag" "$policy"; then
  echo "$policy is not this deploy's: left in place; whether the package restarts" \
       "keepalived is up to it" >&2
elif [ -n "$policy" ]; then
  trap 'rm -f "$policy" "$policy.new"' EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  cat > "$policy.new" <<POLICY || exit 1
#!/bin/sh
$policy_tag
# No start or restart of keepalived by its package while the deploy (pid $$) installs it:
# the deploy restarts keepalived itself, one host at a time. Other services: allowed.
[ -d /proc/$$ ] || exit 0
# (and only while a deploy holds the host's lock: a pid can be reused after a kill)
flock -n $lock_file true 2>/dev/null && exit 0
for word; do
  case \$word in
    -*) ;;
    keepalived|keepalived.service) exit 101 ;;
    *) exit 0 ;;
  esac
done
exit 0
POLICY
  chmod 755 "$policy.new" && mv -f "$policy.new" "$policy" || exit 1
fi
eval "$command" 9>&-  # (a daemon a maintainer script starts must not keep the lock)
