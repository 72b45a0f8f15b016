# The SSH host public keys this host's sshd presents, one "TYPE BASE64" line each, of the
# HostKey files in $keys (host_key_files.sh comes first). Public halves only: no private
# key is read or sent.
for key in $keys; do
    [ -r "$key.pub" ] && cut -d ' ' -f 1,2 "$key.pub"
done
true
