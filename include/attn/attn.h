/* attn/attn.h: the umbrella header of libattn. Include this one. */
#ifndef ATTN_ATTN_H
#define ATTN_ATTN_H

#include "attn/status.h"
#include "attn/runtime.h"
#include "attn/config.h"
#include "attn/model.h"
#include "attn/safetensors.h"
#include "attn/train.h"
#include "attn/decode.h"
#include "attn/tokenizer.h"
#include "attn/metrics.h"
#include "attn/viz.h"
#include "attn/data.h"
#include "attn/lm.h"
#include "attn/classifier.h"

#endif
