# After the host keys are installed (pyinfra_keepalived/operations/shared_keys.py): check sshd's live config
# (`sshd -t`), then reload sshd (SIGHUP: open sessions stay). sshd's unit is ssh.service
# on Debian/Ubuntu, sshd.service on RHEL; a socket-activated sshd (neither active) reads
# its keys at each connection and needs no reload.
PATH="$PATH:/usr/sbin:/sbin"
sshd -t || exit 1
for u in ssh.service sshd.service; do
    if systemctl is-active --quiet "$u"; then exec systemctl reload "$u"; fi
done
