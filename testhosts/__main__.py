"""python3 -m testhosts up|down|status|inventory|demo  (docker test hosts for the deploy)."""

import argparse
import sys

from .cluster import LABEL, Cluster, find_clusters
from .demo import run_demo
from .engine import EngineError, ensure_engine
from .image import DEFAULT_RELEASE, RELEASES


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m testhosts", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="build the image if needed and start hosts")
    up.add_argument("--hosts", type=int, default=2)
    up.add_argument("--release", choices=list(RELEASES), default=DEFAULT_RELEASE)
    up.add_argument("--apt-cache", action="store_true",
                    help="also start a package cache (apt-cacher-ng) the hosts install through")
    for name, text in [("up", None), ("down", "remove a cluster's containers and network"),
                       ("status", "list clusters and who holds the VIP"),
                       ("inventory", "print the path of a cluster's pyinfra inventory"),
                       ("demo", "deploy, show the VIP, fail over and back")]:
        sub = up if name == "up" else commands.add_parser(name, help=text)
        sub.add_argument("--name", default="demo" if name == "demo" else "dev")
    args = parser.parse_args(argv)

    try:
        client = ensure_engine()
    except EngineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    if args.command == "demo":
        return run_demo(client, args.name)
    if args.command == "up":
        cluster = Cluster(client, args.name, args.hosts, args.release,
                          apt_cache=args.apt_cache).up()
        print(f"{args.hosts} hosts up; VIP {cluster.vip()}\n"
              f"Deploy: pyinfra {cluster.inventory_path} deploy.py")
    elif args.command == "down":
        Cluster(client, args.name).down()
        print(f"removed cluster {args.name!r}")
    elif args.command == "inventory":
        print(Cluster(client, args.name).inventory_path)
    elif args.command == "status":
        for name in find_clusters(client):
            count = len(client.containers.list(filters={"label": f"{LABEL}={name}"}))
            cluster = Cluster(client, name, count)
            print(f"{name}: {count} hosts, VIP {cluster.vip()} held by "
                  f"{', '.join(cluster.holders()) or 'nobody'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
