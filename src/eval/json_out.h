/* eval/json_out.h: the two pieces every JSON report of the library is made of (eval's metrics and
 * scores, the tasks' fold summaries and transcripts): a numeric array member, and the finished
 * tree as the malloc'd text the public *_format functions hand out. Internal. */
#ifndef ATTN_EVAL_JSON_OUT_H
#define ATTN_EVAL_JSON_OUT_H

#include <cjson/cJSON.h>

/* Adds o[key] = [v0, .., v(n-1)], from longs when l is not NULL, else from doubles d.
 * Returns 0 when out of memory (o keeps what was added; deleting o frees it). */
int json_add_numbers(cJSON *o, const char *key, const long *l, const double *d, int n);

/* cJSON's unformatted text of root, copied so that the caller frees it with free() whatever
 * cJSON's allocator is. root is deleted here (NULL is allowed). NULL when out of memory. */
char *json_take_text(cJSON *root);

#endif
