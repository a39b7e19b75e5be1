/* fault.c - fault injection for tests: I/O errors on the nth write-path step
 * (FIRN_IO_FAIL_AT) and named crash points (FIRN_CRASH_AT). Process-global;
 * steps are counted under a lock (S3 parts are sent from several threads). */
#include "io/io.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
    bool initialised; /* environment read */
    bool armed;
    long target;      /* fail the step with this number */
    long steps;       /* steps counted since the last arm/disarm */
    char op[32];      /* count only this op ("" = all) */
    char where[256];  /* FIRN_IO_FAIL_PATH: count only steps on locations containing it */
} fault;

static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;

static void fault_set(const char *op, long nth) {
    fault.initialised = true;
    fault.armed = nth > 0;
    fault.target = nth;
    fault.steps = 0;
    snprintf(fault.op, sizeof fault.op, "%s", op ? op : "");
}

void firn_io_fault_arm(const char *op, long nth) {
    pthread_mutex_lock(&fault_lock);
    fault_set(op, nth);
    pthread_mutex_unlock(&fault_lock);
}

void firn_io_fault_disarm(void) { firn_io_fault_arm(NULL, 0); }

long firn_io_fault_steps(void) {
    pthread_mutex_lock(&fault_lock);
    long n = fault.steps;
    pthread_mutex_unlock(&fault_lock);
    return n;
}

bool firn_io_fault_check(const char *op) { return firn_io_fault_check_at(op, NULL); }

bool firn_io_fault_check_at(const char *op, const char *location) {
    bool fail = false;
    pthread_mutex_lock(&fault_lock);
    if (!fault.initialised) {
        const char *at = getenv("FIRN_IO_FAIL_AT");
        fault_set(getenv("FIRN_IO_FAIL_OP"), at ? strtol(at, NULL, 10) : 0);
        const char *where = getenv("FIRN_IO_FAIL_PATH");
        snprintf(fault.where, sizeof fault.where, "%s", where ? where : "");
    }
    if ((!fault.op[0] || strcmp(fault.op, op) == 0) &&
        (!fault.where[0] || (location && strstr(location, fault.where)))) {
        fault.steps++;
        if (fault.armed && fault.steps == fault.target) {
            fault.armed = false; /* a single failure, like a transient disk error */
            fail = true;
        }
    }
    pthread_mutex_unlock(&fault_lock);
    return fail;
}

void firn_io_crash_point(const char *name) {
    const char *at = getenv("FIRN_CRASH_AT");
    if (!at || !*at) return;
    size_t n = strlen(name);
    if (strncmp(at, name, n) != 0 || (at[n] != '\0' && at[n] != ':')) return;
    static long hits;
    hits++;
    if (at[n] == ':' && strtol(at + n + 1, NULL, 10) != hits) return;
    static const char msg1[] = "firn: crash point ";
    static const char msg2[] = " reached (FIRN_CRASH_AT), killing myself\n";
    ssize_t w = write(2, msg1, sizeof msg1 - 1);
    w = write(2, name, n);
    w = write(2, msg2, sizeof msg2 - 1);
    (void)w;
    raise(SIGKILL);
    _exit(137); /* not reached */
}
