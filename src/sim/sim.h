/*
 * sim.h - the paper's parking lot: a deterministic (seeded) simulation of cars
 * entering and leaving a lot with N slots, one event per entry or exit, each
 * with the gate camera's picture rendered by firn (JPEG or PNG).
 *
 * The same options (seed and --start included) give byte-identical events.
 * A configurable share of events is bad on purpose; every bad event breaks
 * exactly one validation rule (or is unparseable), and the simulator reports
 * that ground truth with the event so tests can count per rule.
 *
 * Usage:
 *   firn_sim_options o; firn_sim_options_init(&o); o.seed = 7; ...
 *   firn_sim *s; firn_sim_new(&o, &s, &err);
 *   const firn_sim_event *ev;
 *   while (...) { firn_sim_next(s, &ev, &err); ... use ev ... }
 *   firn_sim_free(s);
 * Everything an event points to belongs to the simulator and stays valid until
 * the next firn_sim_next() or firn_sim_free(). One simulator per thread.
 *
 * ---------------------------------------------------------------------------
 * firn's raw event envelope (the record format of the raw topic `events`)
 * ---------------------------------------------------------------------------
 *   topic   FIRN_SIM_RAW_TOPIC ("events")
 *   key     the carId, as bytes (per-key order: one car's entry precedes its exit);
 *           firn_sim_event.car_id, which for a pattern-breaking event is the
 *           simulated plate, not the broken one in the JSON
 *   value   the event as one JSON object, UTF-8, without the image:
 *             {"eventId":"<uuid>","eventType":"parking-entry"|"parking-exit",
 *              "timeStamp":"2025-11-26T08:00:00.000000Z","carId":"12GA3456",
 *              "slotId":17,"x":43.75,"y":2.50,"cameraId":"gate-in"}
 *   header  FIRN_SIM_IMAGE_HEADER ("image"): the image bytes (binary, JPEG or
 *           PNG). The format is recognised from the bytes' signature, never
 *           from a name. No header = no image.
 *   timestamp  the event's timeStamp in milliseconds.
 * NDJSON (`firn sim --ndjson`) carries the same object with the image inline
 * as standard base64 in an "image" field (the last field of the object).
 *
 * ---------------------------------------------------------------------------
 * The lot
 * ---------------------------------------------------------------------------
 * Slots are 2.5 m wide, in rows of FIRN_SIM_ROW_SLOTS; each row is 6 m deep.
 * Slot i sits at x = (i % 20) * 2.5 + 1.25, y = (i / 20) * 6 + 2.5 (metres,
 * the slot's centre); the lot spans [0, width] x [0, depth] as
 * firn_sim_lot_size() says (200 slots: 50 m x 60 m). Validation ranges for
 * x and y are the lot's extent.
 */
#ifndef FIRN_SIM_H
#define FIRN_SIM_H

#include "util/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FIRN_SIM_RAW_TOPIC "events"
#define FIRN_SIM_IMAGE_HEADER "image"
#define FIRN_SIM_ROW_SLOTS 20
/* carId of every good event matches this (Korean civilian plate, romanised:
 * two digits, a two-letter syllable, four digits). */
#define FIRN_SIM_CAR_PATTERN "^[0-9]{2}[A-Z]{2}[0-9]{4}$"

typedef enum firn_sim_format {
    FIRN_SIM_JPEG = 0,
    FIRN_SIM_PNG = 1,
} firn_sim_format;

/*
 * Ground truth of one event: good, the one validation rule it breaks, or why
 * it cannot be parsed. The names (firn_sim_truth_name) are the families of the
 * validator's rule names (src/pipeline/validate.h); firn_sim_event.rule adds
 * the field ("required:slotId"). What each bad event relies on is stated per
 * kind; a validator configured otherwise may disagree with the ground truth.
 */
typedef enum firn_sim_truth {
    FIRN_SIM_GOOD = 0,
    FIRN_SIM_REQUIRED,     /* "required": one of eventId, timeStamp, carId, slotId, x, y or
                              the image is missing (never eventType: the classifier routes
                              on it) */
    FIRN_SIM_TYPE,         /* "type": slotId or x a string, y a boolean, cameraId a number */
    FIRN_SIM_RANGE,        /* "range": x or y below 0 by 1..21 m, or more than 1000 m beyond
                              the lot (bounds: the lot's extent, firn_sim_lot_size) */
    FIRN_SIM_PATTERN,      /* "pattern": carId does not match FIRN_SIM_CAR_PATTERN */
    FIRN_SIM_FUTURE,       /* "timestamp:future": timeStamp 10 years after the clock */
    FIRN_SIM_STALE,        /* "timestamp:too-old": timeStamp 10 years before the clock */
    FIRN_SIM_IMAGE_DECODE, /* "image:decode": truncated image, random bytes, or a JPEG/PNG
                              signature followed by garbage */
    FIRN_SIM_IMAGE_FORMAT, /* "image:format": a valid 24-bit BMP of the configured size
                              (subsampled to fit image_max_bytes when that is set) */
    FIRN_SIM_IMAGE_LIMITS, /* "image:dimensions": a valid image of 12x9 or 8200x24 pixels
                              (limits must lie within 13..8199 per side and admit the
                              configured size) */
    FIRN_SIM_IMAGE_SIZE,   /* "image:size": a valid image padded (JPEG comments, a private
                              PNG chunk) to just over image_max_bytes; only when that
                              option is set */
    FIRN_SIM_DUPLICATE,    /* "duplicate": the eventId of one of the last 256 good events,
                              alternately with its exact payload and image (variant
                              "repeat-of:N") and with another timeStamp ("conflict-with:N");
                              the original stays good */
    FIRN_SIM_BAD_JSON,     /* "parse:syntax": not JSON; to dead-letter */
    FIRN_SIM_BAD_UTF8,     /* "parse:invalid-utf8": invalid UTF-8 in a string; to dead-letter */
    FIRN_SIM_N_TRUTH
} firn_sim_truth;

/* "good", "required", "type", ..., "parse:syntax", "parse:invalid-utf8". */
const char *firn_sim_truth_name(firn_sim_truth t);
/* Parse a name back; -1 when unknown. */
int firn_sim_truth_from_name(const char *name);
/* True for the truths the classifier sends to dead-letter. */
bool firn_sim_truth_unparseable(firn_sim_truth t);

typedef struct firn_sim_options {
    uint64_t seed;          /* default 42 */
    uint32_t slots;         /* lot size, default 200 */
    int width, height;      /* image size, default 640 x 480 (32..8192 each) */
    firn_sim_format format; /* default JPEG */
    int jpeg_quality;       /* default 85 */
    double bad_ratio;       /* share of bad events in [0, 1], default 0 */
    int64_t start_us;       /* clock start, microseconds since the epoch; 0 = live:
                               every timeStamp is the wall clock when generated
                               (not reproducible) */
    int64_t mean_gap_us;    /* with start_us: mean simulated time between events,
                               default 1 s */
    size_t image_max_bytes; /* the validator's image size limit: when set, bad events
                               include images 1..4096 bytes over it; 0 (default) = none */
} firn_sim_options;

void firn_sim_options_init(firn_sim_options *o);

/* One event. The named fields describe the event as simulated; for bad events
 * the wire bytes (json, image) carry the fault, the fields do not. */
typedef struct firn_sim_event {
    uint64_t seq;           /* 0, 1, 2, ... in emission order */
    firn_sim_truth truth;
    const char *rule;       /* the validator's name of the broken rule: "required:slotId",
                               "type:x", "range:y", "pattern:carId", "duplicate:eventId",
                               "timestamp:future", "image:decode", "parse:syntax", ...;
                               "" for good events */
    const char *variant;    /* which fault, for people: "missing:slotId", "truncated", ...;
                               "" for good events */
    int64_t dup_of;         /* DUPLICATE: seq of the original; else -1 */
    char event_id[37];      /* lower-case UUID v4 */
    bool entry;             /* parking-entry or parking-exit */
    int64_t ts_us;          /* timeStamp as simulated (before any fault) */
    char car_id[16];
    int32_t slot_id;
    double x, y;
    const char *camera_id;  /* "gate-in" | "gate-out" */
    uint32_t car_rgb;       /* 0xRRGGBB */

    /* The wire form (envelope above). */
    const uint8_t *json;    /* record value */
    size_t json_len;
    const uint8_t *image;   /* NULL when the event has no image */
    size_t image_len;
    const char *image_ext;  /* "jpg", "png", "bmp", "bin" (random bytes) */
    int image_width, image_height; /* of a decodable image, else 0 */
} firn_sim_event;

typedef struct firn_sim firn_sim;

/* Validates the options (FIRN_ERR_INVALID naming the bad one). */
int firn_sim_new(const firn_sim_options *o, firn_sim **out, firn_error *err);
void firn_sim_free(firn_sim *s);
/* Simulate and render the next event. */
int firn_sim_next(firn_sim *s, const firn_sim_event **out, firn_error *err);
/* Events emitted so far per truth (indexed by firn_sim_truth). */
void firn_sim_counts(const firn_sim *s, uint64_t counts[FIRN_SIM_N_TRUTH]);
/* Cars parked now. */
uint32_t firn_sim_occupied(const firn_sim *s);

/* The lot's extent in metres for a number of slots. */
void firn_sim_lot_size(uint32_t slots, double *width_m, double *depth_m);
/* Centre of slot i in metres. */
void firn_sim_slot_xy(uint32_t slot, double *x, double *y);

/* Append ev as one NDJSON line (with "image" as base64, and '\n') to out.
 * Unparseable events are written as their raw bytes, without the image. */
void firn_sim_event_ndjson(const firn_sim_event *ev, firn_buf *out);
/* Standard base64 (RFC 4648, padded) of data appended to out. */
void firn_sim_base64(const uint8_t *data, size_t n, firn_buf *out);
/* "2025-11-26T08:00:00.000000Z" (28 bytes with the NUL). */
void firn_sim_format_ts(int64_t us, char out[28]);
/* Parse "YYYY-MM-DDTHH:MM:SS[.ffffff][Z]" (UTC) or "now" into microseconds. */
int firn_sim_parse_ts(const char *s, int64_t *us, firn_error *err);

/* ------------------------------------------------------------ rendering */

/* A reusable gate-camera renderer for one image size: precomputes the two
 * camera backgrounds, then draws a car and its plate per frame and encodes it. */
typedef struct firn_sim_renderer firn_sim_renderer;

typedef struct firn_sim_scene {
    bool entry;          /* camera gate-in (entry) or gate-out (exit) */
    uint32_t car_rgb;
    const char *plate;   /* drawn with the built-in font (digits, A-Z, '-', ':', '.') */
    int shift;           /* horizontal offset of the car in 1/100 of the width, -10..10 */
    int64_t ts_us;       /* drawn as the camera's time overlay */
} firn_sim_scene;

int firn_sim_renderer_new(int width, int height, firn_sim_renderer **out, firn_error *err);
void firn_sim_renderer_free(firn_sim_renderer *r);
/* Draw the scene into the renderer's RGB frame (width*height*3 bytes, owned by r). */
const uint8_t *firn_sim_render(firn_sim_renderer *r, const firn_sim_scene *sc);
/* Encode the current frame, replacing out's contents. */
int firn_sim_encode(firn_sim_renderer *r, firn_sim_format fmt, int quality, firn_buf *out,
                    firn_error *err);

#endif
