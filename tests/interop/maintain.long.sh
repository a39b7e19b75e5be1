#!/usr/bin/env bash
# maintain.long.sh - maintain.test.sh with the issue's concurrency size: two writers commit
# 300 one-row appends each (about a minute here) while compaction, expiry and orphan removal
# (10 s margin) run in a loop.
FIRN_MAINTAIN_COMMITS=${FIRN_MAINTAIN_COMMITS:-300} exec bash "$(dirname "${BASH_SOURCE[0]}")/maintain.test.sh"
