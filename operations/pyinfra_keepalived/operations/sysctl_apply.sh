# sysctl-apply FILE: apply a sysctl.d file now, where the running values can be written.
# In a container /proc/sys is read-only (docker mounts it so): the file then only takes
# effect where the host boots with it; keepalived sets the VRRP virtual MAC's values itself
# (through netlink) when it makes the macvlan.
if [ -w /proc/sys/net/ipv4/conf/all/arp_ignore ]; then
  sysctl -q -p "$1"
else
  echo "sysctl-apply: /proc/sys is read-only here (a container?): $1 not applied now" >&2
fi
