# Before any host key is installed in place (pyinfra_keepalived/operations/shared_keys.py):
#
#   check_host_keys.sh UPLOAD PATH [UPLOAD PATH ...]
#
# each new private key (UPLOAD, in the run's private upload directory; PATH, the live
# file it is for) is copied root-only (600) beside its upload and checked with sshd's live
# config and that key as its one HostKey (`sshd -t -h`: a -h replaces the config's
# HostKeys, and sshd exits 1, "no hostkeys available", when it cannot load the key; with
# several -h a bad one would only be logged, hence one check per key). Exits 1 at the
# first key sshd refuses, so a bad key never reaches sshd's live files.
PATH="$PATH:/usr/sbin:/sbin"
while [ $# -ge 2 ]; do
    install -o root -g root -m 600 "$1" "$1.staged" && sshd -t -h "$1.staged" ||
        { rm -f "$1.staged"; echo "sshd refuses the new host key for $2: no key installed" >&2; exit 1; }
    rm -f "$1.staged"
    shift 2
done
