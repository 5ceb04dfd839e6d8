/* examples/classifier.c: train a text classifier, score it, label a text (attn/classifier.h).
 * usage: classifier TRAIN.tsv DEV.tsv OUT.safetensors "some text" */
#include <stdio.h>
#include <string.h>

#include "attn/attn.h"

int main(int argc, char **argv) {
    if (argc != 5) return fprintf(stderr, "usage: %s TRAIN DEV OUT TEXT\n", argv[0]), 2;
    attn_tsv train, dev;
    attn_classifier *c = NULL;
    attn_cls_report r;
    int label;
    attn_classifier_params p = attn_classifier_default_params();
    p.model.d_model = 32, p.model.d_ff = 64, p.model.n_layers = 1, p.vocab_size = 300;
    p.train.epochs = 10, p.batch = 8;
    p.train.save_path = argv[3]; /* the best epoch on dev, with its tokenizer and labels */
    if (attn_tsv_read(argv[1], &train) || attn_tsv_read(argv[2], &dev) ||
        attn_classifier_train(&train, &dev, NULL, &p, &c, NULL) ||
        attn_classifier_evaluate(&c, 1, &dev, 0, 32, &r, NULL) ||
        attn_classifier_classify(c, argv[4], strlen(argv[4]), &label, NULL))
        return fprintf(stderr, "error: %s\n", attn_last_error()), 1;
    printf("dev accuracy %.3f  macro-F1 %.3f\n", r.accuracy, r.macro_f1);
    printf("%s\t%s\n", attn_labels_name(attn_classifier_labels(c), label), argv[4]);
    attn_cls_report_free(&r);
    attn_classifier_free(c);
    attn_tsv_free(&train);
    attn_tsv_free(&dev);
    return 0;
}
