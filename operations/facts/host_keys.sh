# The SSH host public keys this host's sshd presents, one "TYPE BASE64" line each: the
# HostKey files of sshd's effective config (`sshd -T` needs root), else /etc/ssh's
# ssh_host_*_key. Public halves only: no private key is read or sent.
PATH="$PATH:/usr/sbin:/sbin"
keys=$(sshd -T 2>/dev/null | awk '$1 == "hostkey" { print $2 }')
[ -n "$keys" ] || keys=$(ls /etc/ssh/ssh_host_*_key 2>/dev/null)
for key in $keys; do
    [ -r "$key.pub" ] && cut -d ' ' -f 1,2 "$key.pub"
done
true
