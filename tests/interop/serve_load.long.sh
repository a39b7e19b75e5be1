#!/usr/bin/env bash
# serve_load.long.sh - serve_load.test.sh at the issue's size: 200,000 events
# from 32 keep-alive clients, and a fault run of 30,000 events with two SIGKILLs.
export SERVE_LOAD_EVENTS=${SERVE_LOAD_EVENTS:-200000}
export SERVE_FAULT_EVENTS=${SERVE_FAULT_EVENTS:-30000}
export SERVE_FAULT_RATE=${SERVE_FAULT_RATE:-5000}
exec bash "$(dirname "${BASH_SOURCE[0]}")/serve_load.test.sh"
