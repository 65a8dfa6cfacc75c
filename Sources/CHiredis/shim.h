#ifndef KEEL_CHIREDIS_SHIM_H
#define KEEL_CHIREDIS_SHIM_H
// hiredis's protocol code: redisFormatCommandArgv encodes a command, a redisReader parses
// replies. The header is found in the system include path (Debian: libhiredis-dev).
#include <hiredis/hiredis.h>
#endif
