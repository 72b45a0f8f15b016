# keepalived's status (facts/keepalived.py, KeepalivedStatus), after vrrp_dump.sh and
# dump_lines (the lines of the data dump that may leave the host: it holds auth_pass):
# the host's clock, the filtered dump of the running VRRP process, the host's addresses.
echo "## now $(date +%s)"
if pid=$(vrrp_pid); then
    echo "## running $pid"
    vrrp_dump "$pid" "$dump_lines"
else
    echo "## stopped"
fi
echo "## addresses"
ip -o addr show
