#!/bin/sh
logger -t keepalived-page "$@"
