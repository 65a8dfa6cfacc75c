#ifndef KEEL_CLIBPQ_SHIM_H
#define KEEL_CLIBPQ_SHIM_H
// libpq's public header; its include directory comes from `pkg-config libpq`.
#include <libpq-fe.h>
#endif
