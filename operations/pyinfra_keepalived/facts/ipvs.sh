# IPVS in this host's kernel, for a config with LVS (facts/probe.py, KeepalivedProbe with
# ipvs): keepalived with any virtual_server on a kernel without IPVS terminates whole, VRRP
# included, and `keepalived -t` does not tell. Load ip_vs quietly where it is a module
# (no modprobe, or built in: nothing to load), then the kernel has IPVS if /proc/net/ip_vs
# exists. And whether ipvsadm (the operator's view of IPVS) is installed.
echo '## ipvs'
modprobe -q ip_vs 2>/dev/null
if [ -e /proc/net/ip_vs ]; then echo 'ipvs=yes'; else echo 'ipvs=no'; fi
if command -v ipvsadm >/dev/null 2>&1; then echo 'ipvsadm=yes'; else echo 'ipvsadm=no'; fi
