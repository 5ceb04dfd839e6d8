/* eval/json_out.c: numeric arrays and the finished text of the library's JSON reports. */
#include "eval/json_out.h"

#include <stdlib.h>
#include <string.h>

int json_add_numbers(cJSON *o, const char *key, const long *l, const double *d, int n) {
    cJSON *a = cJSON_AddArrayToObject(o, key);
    for (int i = 0; a && i < n; i++) {
        cJSON *x = cJSON_CreateNumber(l ? (double)l[i] : d[i]);
        if (!x || !cJSON_AddItemToArray(a, x)) {
            cJSON_Delete(x);
            return 0;
        }
    }
    return a != NULL;
}

char *json_take_text(cJSON *root) {
    char *text = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    char *copy = text ? malloc(strlen(text) + 1) : NULL;
    if (copy) strcpy(copy, text);
    cJSON_free(text);
    return copy;
}
