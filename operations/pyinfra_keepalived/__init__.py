"""pyinfra-keepalived: keepalived (VRRP high availability) on Linux hosts, with pyinfra.

    from pyinfra_keepalived import keepalived
    keepalived()

The layers, each importing only from the ones before it:
model (host data, validated) -> render (files) -> facts (what hosts say)
-> operations (what changes hosts) -> deploys (install, status, drill, backup, uninstall).
"""

__all__ = ["keepalived"]


def __getattr__(name):
    # The install deploy is imported when asked for, so that `pyinfra_keepalived.model`
    # (validation alone, e.g. in an editor's or a CI's check) does not load pyinfra's deploys.
    if name == "keepalived":
        from .deploys.install import keepalived
        return keepalived
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
