/* config_docs - print docs/configuration.md, generated from the key table in
 * src/config/config.c:  build/tools/config_docs > docs/configuration.md */
#include "config/config.h"

#include <stdio.h>

int main(void) {
    firn_buf b;
    firn_buf_init(&b);
    firn_config_write_docs(&b);
    fwrite(b.data, 1, b.len, stdout);
    firn_buf_release(&b);
    return 0;
}
