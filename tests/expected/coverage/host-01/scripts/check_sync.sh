#!/bin/sh
# Managed by pyinfra (keepalived deploy).
# keepalived health check: succeeds while the systemd unit below is active.
exec systemctl is-active --quiet -- ssh.service
