"""Keywords that older keepalived versions do not know, each with the first version that
reads it. keepalived 2.1.5 (Debian 11) logs `Unknown keyword` for them and ignores the
line; 2.2.7 (Debian 12) and 2.3.x (Debian 13) read them.

A host whose keepalived_package_version pins an older version gets a warning for each
(warn_unknown_to_pinned). The table is checked against the real `keepalived -t` of each release
(tests/e2e/test_releases.py): every version at or after a keyword's first version accepts the
configs that use it, and every version before it names the keyword as unknown.
"""

# data key path ("[]": every entry of a list) -> the first keepalived version that reads it
FIRST_VERSION = {
    "keepalived_vrrp_instances[].use_vmac_addr": "2.2.0",
    "keepalived_virtual_servers[].real_servers[].udp_checks[].payload": "2.2.0",
    "keepalived_virtual_servers[].real_servers[].udp_checks[].min_reply_length": "2.2.0",
    "keepalived_virtual_servers[].real_servers[].udp_checks[].max_reply_length": "2.2.0",
}


def version_tuple(text):
    """(2, 1, 5) from "2.1.5", "v2.1.5" or a Debian package version ("1:2.1.5-0.2+deb11u1");
    None when it starts with no version number."""
    text = str(text).split(":", 1)[-1].lstrip("v")
    numbers = []
    for part in text.split("."):
        digits = part[:len(part) - len(part.lstrip("0123456789"))]
        if not digits:
            break
        numbers.append(int(digits))
        if digits != part:
            break
    return tuple(numbers) or None


def keyword(path):
    """The keepalived keyword a FIRST_VERSION path ends with."""
    return path.rsplit(".", 1)[-1]


def places(data, path):
    """Each mapping in `data` (host data) that holds the keyword of `path`, as
    (where, mapping): `where` is the mapping's own key path, with list indexes."""
    found = [("", data)]
    for part in path.split(".")[:-1]:
        name, is_list = (part[:-2], True) if part.endswith("[]") else (part, False)
        deeper = []
        for where, value in found:
            if isinstance(value, dict) and name in value:
                key = f"{where}.{name}" if where else name
                items = enumerate(value[name]) if is_list and isinstance(value[name], list) \
                    else [] if is_list else [(None, value[name])]
                deeper += [(key if i is None else f"{key}[{i}]", item) for i, item in items]
        found = deeper
    return [(where, mapping) for where, mapping in found
            if isinstance(mapping, dict) and keyword(path) in mapping]


def unknown_to(version, data):
    """(key path, value, first version) of each keyword `data` (host data) gives that
    keepalived `version` (a tuple) does not know yet."""
    return [(f"{where}.{keyword(path)}", mapping[keyword(path)], first)
            for path, first in FIRST_VERSION.items() if version < version_tuple(first)
            for where, mapping in places(data, path)]


def warn_unknown_to_pinned(problems, data, package_version):
    """A warning for each keyword the pinned keepalived package (keepalived_package_version)
    does not know yet: it would log `Unknown keyword` and run without it."""
    version = version_tuple(package_version) if package_version else None
    for where, value, first in unknown_to(version, data) if version else []:
        problems.warn(where, value, f"keepalived {'.'.join(map(str, version))} "
                      f"(keepalived_package_version {package_version}) does not know it "
                      f"(keepalived {first} and later): it logs \"Unknown keyword\" and runs "
                      f"without it; remove it or pin keepalived {first} or later")
