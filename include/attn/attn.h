/* attn/attn.h: the umbrella header of libattn. */
#ifndef ATTN_ATTN_H
#define ATTN_ATTN_H

#include "attn/status.h"
#include "attn/runtime.h"
#include "attn/config.h"

#endif
