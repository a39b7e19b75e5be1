/* dashboard.c - the dashboard's files (src/server/assets/), embedded in the
 * binary with .incbin so that firn serves them offline from any directory.
 * Paths are matched exactly against this table: no URL reaches the disk. */
#include "server/server_internal.h"

#include <string.h>

/* FIRN_ASSET(sym, file): sym_start .. sym_end hold the file's bytes. The
 * Makefile rebuilds this object when an asset changes. */
#define FIRN_ASSET(sym, file)                                                   \
    __asm__(".section .rodata\n"                                                \
            ".global " #sym "_start\n"                                          \
            ".type " #sym "_start, @object\n"                                   \
            ".balign 16\n" #sym "_start:\n"                                     \
            ".incbin \"" file "\"\n"                                            \
            ".global " #sym "_end\n" #sym "_end:\n"                             \
            ".byte 0\n"                                                         \
            ".previous\n");                                                     \
    extern const char sym##_start[], sym##_end[]

FIRN_ASSET(firn_asset_index, "src/server/assets/index.html");
FIRN_ASSET(firn_asset_js, "src/server/assets/app.js");
FIRN_ASSET(firn_asset_css, "src/server/assets/app.css");
FIRN_ASSET(firn_asset_icon, "src/server/assets/favicon.svg");

static const struct {
    const char *path;
    const char *start, *end;
    const char *type;
} files[] = {
    {"/", firn_asset_index_start, firn_asset_index_end, "text/html; charset=utf-8"},
    {"/index.html", firn_asset_index_start, firn_asset_index_end, "text/html; charset=utf-8"},
    {"/app.js", firn_asset_js_start, firn_asset_js_end, "text/javascript; charset=utf-8"},
    {"/app.css", firn_asset_css_start, firn_asset_css_end, "text/css; charset=utf-8"},
    {"/favicon.svg", firn_asset_icon_start, firn_asset_icon_end, "image/svg+xml"},
    {"/favicon.ico", firn_asset_icon_start, firn_asset_icon_end, "image/svg+xml"},
};

int firn_dashboard_file(const char *path, const void **data, size_t *len, const char **type) {
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (!strcmp(path, files[i].path)) {
            *data = files[i].start;
            *len = (size_t)(files[i].end - files[i].start);
            *type = files[i].type;
            return 0;
        }
    return -1;
}
