"""The data model: host data in, typed settings out.

The host data keys are declared once, one pydantic class per keepalived block (`keys`:
type, range, default, one line of documentation). `validate` reads each block with
`keys.read_block` (one `model_validate`; a refusal becomes a message naming the host, the
key path, the value and what the type allows) and adds the rules between keys as named
checks (`validate`, `instance`, `host_level`); the validated block is what render
receives. The docs' key table (docs/data-keys.md), the JSON Schema and pyinfra's
data_defaults come from the same classes (`schema`, `keys.data_defaults`); `blocks` holds
the host's Settings (the validated blocks, paths and host level). The checks across hosts
are `peers` and `fleet`. Nothing here reads a host or renders a file, and nothing imports
a later layer (render, facts, operations, deploys).
"""

# The modules whose blocks model.keys names by name complete it (keys.complete).
from . import bfd, includes, keys, lvs, tracking_blocks  # noqa: F401,E402

assert keys.HostData.__pydantic_complete__, "a type model.keys names is not registered"
