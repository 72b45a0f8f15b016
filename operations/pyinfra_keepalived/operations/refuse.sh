# Fail the host with a message, changing nothing (operations/state_files.py, refusal):
#   refuse.sh MESSAGE
echo "$1" >&2
exit 1
