"""The data model: host data in, typed settings out.

One class per keepalived block (`blocks`), the checks that turn a host's data into them
(`validate`, with `instance` and `host_level` for their keys) and the checks across hosts
(`peers`, `fleet`). Errors name the host, the key path, the value and what is allowed.
Nothing here reads a host or renders a file.
"""
