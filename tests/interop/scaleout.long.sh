#!/usr/bin/env bash
# scaleout.long.sh - scaleout.test.sh at a larger size (FIRN_TEST_LONG=1 / make test-long).
export FIRN_SCALE_EVENTS_A=${FIRN_SCALE_EVENTS_A:-4000}
export FIRN_SCALE_EVENTS_B=${FIRN_SCALE_EVENTS_B:-6000}
export FIRN_SCALE_RATE=${FIRN_SCALE_RATE:-1000}
exec bash "$(dirname "${BASH_SOURCE[0]}")/scaleout.test.sh"
