"""The data model: host data in, typed settings out.

The host data keys are declared once, one pydantic class per keepalived block (type,
range, default, one line of documentation). Imports run one way, from the base up:

- `types`: the field types, each with the message that says what it allows (`whole`,
  `seconds`, `choice`, `matching`, `checked`, the address types, ...);
- `reading`: `Block` and `Entry`, the base of every block, and reading host data into
  one (`read_block`: one `model_validate`; a refusal becomes a message naming the host,
  the key path, the value and what the type allows);
- the block modules, each one kind of keepalived block and the rules between its keys:
  `lvs`, `bfd`, `tracking_blocks`, `includes`;
- `keys`: the blocks of global_defs, scripts, VRRP instances and sync groups, and
  `HostData`, the host's keys, whose fields are typed by the blocks above (imported, not
  named by string).

A new block: one module beside `lvs` (its Block classes, from `types` and `reading`, and
a `read_...` function with its rules), one field on `HostData` in `keys` typed by its
class, a call in `validate.read_host` and a field on `blocks.Settings`, one template in
templates/conf.d/ (docs/architecture.md).

`validate` reads each block with `reading.read_block` and adds the rules between keys as
named checks (`validate`, `instance`, `host_level`, and each block module's); the
validated block is what render receives. The docs' key table (docs/data-keys.md) and the JSON
Schema come from the same classes (`schema`); `blocks` holds the host's Settings (the
validated blocks, paths and host level). The checks across hosts are `peers` and
`fleet`. Nothing here reads a host or renders a file, and nothing imports a later layer
(render, facts, operations, deploys).
"""
