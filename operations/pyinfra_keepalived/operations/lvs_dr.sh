# lvs-dr UNIT: (re)start UNIT, which puts an LVS-DR real server's virtual addresses on lo
# (operations/host_level.py, dr_real_server), only where the running sysctls keep this
# host from answering ARP for them (all's arp_ignore 1 or more, arp_announce 2): with an
# address on lo and arp_ignore 0 the host would answer every client's ARP for the VIP and
# take its traffic from the VRRP master. Run after sysctl-apply of the real server's file.
ignore=$(cat /proc/sys/net/ipv4/conf/all/arp_ignore 2>/dev/null)
announce=$(cat /proc/sys/net/ipv4/conf/all/arp_announce 2>/dev/null)
if [ "${ignore:-0}" -ge 1 ] 2>/dev/null && [ "${announce:-0}" = 2 ]; then
  systemctl daemon-reload && systemctl enable --quiet "$1" && systemctl restart "$1"
else
  echo "lvs-dr: net.ipv4.conf.all.arp_ignore is ${ignore:-unreadable} and arp_announce" \
       "${announce:-unreadable} (1 and 2 are needed; /proc/sys read-only here?): the" \
       "virtual addresses are NOT put on lo, which would make this host answer ARP for" \
       "them and take their traffic from the VRRP master; set the sysctls (the file is" \
       "in /etc/sysctl.d) and run the deploy again" >&2
  exit 1
fi
