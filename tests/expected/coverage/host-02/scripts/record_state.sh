#!/bin/sh
# Managed by pyinfra (keepalived deploy).
# keepalived notify script: appends a line per call to the log file below: the time, then
# the arguments (for `notify`: TYPE NAME STATE PRIORITY, e.g. INSTANCE VI_1 MASTER 100).
# It runs as the script user, which must be able to write that file.
echo "$(date '+%Y-%m-%dT%H:%M:%S.%N%z') $*" >> /tmp/keepalived-transitions.log
