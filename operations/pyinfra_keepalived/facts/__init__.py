"""Facts: what the deploy reads from hosts, each one command whose output is parsed by a
pure function (the probe of a whole host, keepalived's status, the host-level state)."""
