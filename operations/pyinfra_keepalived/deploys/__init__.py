"""Deploys: what operators run. `install` converges hosts; `status`, `drill`, `backup`,
`uninstall` and `known_hosts` are the day-2 commands beside deploy.py."""
