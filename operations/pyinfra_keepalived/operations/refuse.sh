# Fail the host with a message, changing nothing (operations/lvs.py, ipvs_present):
#   refuse.sh MESSAGE
echo "$1" >&2
exit 1
