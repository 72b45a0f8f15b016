# The host's monotonic clock, for every wait of the deploy's host-side scripts (lock.sh,
# handover.sh and those after them).

# now: centiseconds since boot, from /proc/uptime ($uptime_file: a test's stand-in), a
# monotonic clock (an NTP step moves `date +%s`, not this). Shell arithmetic only (64-bit
# in dash): awk's printf %d stops at 2^31 - 1 in mawk, Debian's awk, which an uptime of
# 248.5 days reaches. The kernel prints two decimals; "1" before them keeps "08" decimal.
now() {
  read -r up_seconds _ < "${uptime_file:-/proc/uptime}" || return 1
  echo $((${up_seconds%.*} * 100 + 1${up_seconds#*.} - 100))
}

# seconds CENTISECONDS: as "12.34"
seconds() {
  printf '%d.%02d\n' $(($1 / 100)) $(($1 % 100))
}
