"""Rendering: typed settings in, file contents out (keepalived.conf, conf.d/*.conf, the
check and notify scripts, the host-level files). Pure functions over the templates."""
