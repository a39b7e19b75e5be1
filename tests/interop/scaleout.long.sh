#!/usr/bin/env bash
# scaleout.long.sh - scaleout.test.sh at a larger size (make test-long):
# 4,000 + 6,000 events at 1,000/s. At this size a worker reads partitions
# whose events are two hours apart in event time side by side (simulator run
# A at 08:00, run B at 10:00), which once made the dedupe window forget run
# A's ids and pass their repeats as trusted (a batch with the same eventId
# twice, rejected by the audit); validate_dedupe_partitions_out_of_time_order
# covers that in the unit tests.
export FIRN_SCALE_EVENTS_A=${FIRN_SCALE_EVENTS_A:-4000}
export FIRN_SCALE_EVENTS_B=${FIRN_SCALE_EVENTS_B:-6000}
export FIRN_SCALE_RATE=${FIRN_SCALE_RATE:-1000}
exec bash "$(dirname "${BASH_SOURCE[0]}")/scaleout.test.sh"
