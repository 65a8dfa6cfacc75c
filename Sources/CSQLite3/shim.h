#ifndef KEEL_CSQLITE3_SHIM_H
#define KEEL_CSQLITE3_SHIM_H
#include <sqlite3.h>

// SQLITE_TRANSIENT is a macro casting -1 to a function pointer, which Swift cannot import.
static inline sqlite3_destructor_type keel_sqlite3_transient(void) {
    return SQLITE_TRANSIENT;
}
#endif
