# Sets $keys: the HostKey files of sshd's effective config (`sshd -T` needs root), else
# /etc/ssh's ssh_host_*_key. Comes before host_keys.sh (the SshHostKeys fact) and before
# the probe's ssh-host-keys section (facts/ssh_host_keys.py).
PATH="$PATH:/usr/sbin:/sbin"
keys=$(sshd -T 2>/dev/null | awk '$1 == "hostkey" { print $2 }')
[ -n "$keys" ] || keys=$(ls /etc/ssh/ssh_host_*_key 2>/dev/null)
