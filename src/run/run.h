/*
 * run.h - `firn run`: the simulator (optional), the classifier and one
 * processor per event type (plus dead letters) as threads of one process,
 * on the transport and catalog of firn.yaml.
 */
#ifndef FIRN_RUN_H
#define FIRN_RUN_H

#include "config/config.h"
#include "util/util.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct firn_run_options {
    const firn_config *cfg;
    uint64_t sim_events;     /* total events the simulator appends (0: no simulator) */
    double sim_rate;         /* events/s, 0: as fast as possible */
    double bad_ratio;        /* share of bad events */
    uint64_t seed;
    int64_t sim_start_us;    /* simulated clock start; 0: the config's / live */
    bool until_drained;      /* exit once every simulated event is published */
    bool classify;           /* run the classifier */
    bool process;            /* run the processors */
    const char *only_topic;  /* processors: only this topic (NULL: all) */
    const char *group;       /* processors: consumer group to share partitions in (NULL: none) */
    const char *worker;      /* processors: worker name; branch <branch>-<worker> (NULL: none) */
    volatile sig_atomic_t *stop; /* set by a signal handler: finish cleanly */
    const char *listen;      /* serve the dashboard, API, metrics and ingest here (NULL: no) */
    bool quiet;
} firn_run_options;

typedef struct firn_run_stats {
    uint64_t sim_appended, sim_skipped;
    uint64_t consumed, routed, dead_letter;
    uint64_t trusted, untrusted, dead_letter_rows;
    uint64_t batches, published, cherry_picked, rejected, fenced, errors;
    uint64_t maintenance_runs, compactions;
} firn_run_stats;

void firn_run_options_init(firn_run_options *o);
int firn_run(const firn_run_options *o, firn_run_stats *st, firn_error *err);

#endif
