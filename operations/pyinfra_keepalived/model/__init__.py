"""The data model: host data in, typed settings out.

The host data keys are declared once, one pydantic class per keepalived block (`keys`:
type, range, default, one line of documentation); the same class, filled in by the
validation, is the block render receives. The README's key table, the JSON Schema and
pyinfra's data_defaults come from them (`schema`, `keys.data_defaults`). The checks that
turn a host's data into its Settings (`blocks`: the validated blocks, paths and host
level) are `validate`, with `instance` and `host_level` for their keys; the checks across
hosts are `peers` and `fleet`. Errors name the host, the key path, the value and what is
allowed. Nothing here reads a host or renders a file, and nothing imports a later layer
(render, facts, operations, deploys).
"""

# The modules whose blocks model.keys names by name complete it (keys.complete).
from . import includes, keys, lvs, tracking_blocks  # noqa: F401,E402

assert keys.HostData.__pydantic_complete__, "a type model.keys names is not registered"
