"""Benchmarks of the deploy on docker test hosts: `python3 -m bench` (see docs/benchmarks.md).

Modules: stats (pure arithmetic and parsing), targets (what each figure must reach),
testbed (clusters, timed pyinfra runs, the VIP observer), adverts (VRRP adverts heard
on the bridge), deploy_speed, failover_speed,
reload_flap (the measurements), machine and report (BENCHMARKS.md and its plots).
"""
