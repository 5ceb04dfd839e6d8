#!/usr/bin/env bash
# tests/cli/test_classify.sh: text classification end to end with the `attn` CLI: train classify,
# eval classify (report, JSON, --skip-unknown, --folds), classify, attention, ensembles; on a toy
# dataset made here whose classes share no word (a model must reach 100% accuracy) and on
# data/samples.
# ctest sets ATTN_BIN and ATTN_SOURCE_DIR. Bad inputs: tests/cli/test_classify_errors.sh.
source "$(dirname "$0")/../common/cli.sh"

# --- a toy corpus: three classes, disjoint vocabularies, 3 to 6 words a text ------------------
animals=(cat dog cow horse sheep goat duck mouse)
colours=(red blue green yellow purple orange black white)
numbers=(one two three four five six seven eight)
RANDOM=42
# toy N: N lines "label<TAB>text", an empty line every 10 (empty lines are skipped)
toy() {
    local i j n words
    for ((i = 0; i < $1; i++)); do
        ((i % 10 == 9)) && echo
        n=$((3 + RANDOM % 4))
        words=()
        case $((i % 3)) in
        0) for ((j = 0; j < n; j++)); do words+=("${animals[RANDOM % 8]}"); done; printf 'animal' ;;
        1) for ((j = 0; j < n; j++)); do words+=("${colours[RANDOM % 8]}"); done; printf 'colour' ;;
        2) for ((j = 0; j < n; j++)); do words+=("${numbers[RANDOM % 8]}"); done; printf 'number' ;;
        esac
        printf '\t%s\n' "${words[*]}"
    done
}
toy 120 >"$tmp/train.tsv"
toy 30 >"$tmp/dev.tsv"
toy 30 >"$tmp/test.tsv"
TINY=(--vocab-size 300 --max-len 32 --layers 1 --d-model 32 --heads 2 --batch 8 --lr 3e-3
    --warmup 5 --dropout 0 --threads 2)

# json_get FILE EXPR: evaluates the Python expression EXPR on the JSON document d in FILE.
json_get() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# --- help ---------------------------------------------------------------------------------------
"$BIN" --help | grep -q 'train classify' || fail "attn --help lacks 'train classify'"
"$BIN" train --help | grep -q classify || fail "attn train --help lacks classify"
help_mentions() {
    local words=$1
    shift
    # shellcheck disable=SC2086
    "$BIN" $words --help >"$tmp/help" 2>&1 || fail "attn $words --help: exit status"
    grep -q '^Example' "$tmp/help" || fail "attn $words --help: no example"
    for opt in "$@"; do
        grep -q -- "--$opt\b" "$tmp/help" || fail "attn $words --help does not mention --$opt"
    done
}
help_mentions "train classify" train dev out tokenizer vocab-size max-len layers d-model heads \
    d-ff dropout pool epochs batch bucket lr warmup schedule weight-decay patience seed quiet
help_mentions "eval classify" model data json skip-unknown folds dev epochs
help_mentions classify model top json
help_mentions attention model out

# --- train on the toy corpus -----------------------------------------------------------------
ckpt=$tmp/toy.safetensors
if ! "$BIN" train classify --train "$tmp/train.tsv" --dev "$tmp/dev.tsv" --out "$ckpt" \
    --epochs 12 --patience 0 "${TINY[@]}" >"$tmp/train.out" 2>"$tmp/train.err"; then
    fail "train classify: exit status $? ($(head -c 300 "$tmp/train.err"))"
fi
[[ -s $ckpt ]] || fail "train classify: no checkpoint"
head -c 8 "$tmp/toy.png" | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a' ||
    fail "train classify: no PNG plot beside the checkpoint"
ls "$tmp" | grep -q '\.tmp\.' && fail "train classify: left a temporary file"
grep -q '^epochs 12/12 .*dev_macro_f1 1\.0000' "$tmp/train.out" ||
    fail "train classify: dev macro-F1 is not 1: $(cat "$tmp/train.out")"
grep -q 'epoch 1/12  step 1/' "$tmp/train.err" || fail "train classify: no progress line"
grep -Eq 'loss [0-9.]+  acc [0-9.]+  [0-9]+ ex/s  (ETA|took)' "$tmp/train.err" ||
    fail "train classify: progress lacks loss/acc/ex/s/ETA: $(head -c 300 "$tmp/train.err")"
grep -q 'dev_macro_f1 .*(best)' "$tmp/train.err" || fail "train classify: no dev lines"

# The checkpoint is self-contained: task, labels (sorted) and tokenizer in the metadata.
"$PY" - "$ckpt" >"$tmp/meta.out" 2>&1 <<'EOF' || fail "checkpoint metadata: $(cat "$tmp/meta.out")"
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    meta = json.loads(f.read(n))["__metadata__"]
assert meta["task"] == "classify", meta["task"]
assert json.loads(meta["labels"]) == ["animal", "colour", "number"], meta["labels"]
tok = json.loads(meta["tokenizer"])
assert tok["model"]["type"] == "BPE" and "[CLS]" in tok["model"]["vocab"]
config = json.loads(meta["config"])
assert config["arch"] == "classifier" and config["n_classes"] == 3 and config["max_len"] == 32
assert json.loads(meta["train_state"])["best_metric"] == 1.0
EOF

# Ctrl-C: the batch in progress finishes, --out holds a usable model, the exit status is 130.
"$BIN" train classify --train "$tmp/train.tsv" --dev "$tmp/dev.tsv" --out "$tmp/int.safetensors" \
    --epochs 100000 --patience 0 "${TINY[@]}" >/dev/null 2>"$tmp/int.err" &
pid=$!
for _ in $(seq 1 200); do # wait (at most 20 s) until training has started
    grep -q '^epoch 1/100000  step 1/' "$tmp/int.err" && break
    sleep 0.1
done
kill -INT "$pid"
wait "$pid"
rc=$?
[[ $rc -eq 130 ]] || fail "train classify + SIGINT: exit status $rc, expected 130"
grep -Eq "^attn: interrupted after [0-9]+ steps; .*int.safetensors holds the best model so far" \
    "$tmp/int.err" || fail "train classify + SIGINT: $(tail -n 2 "$tmp/int.err")"
"$BIN" classify --model "$tmp/int.safetensors" "cat" >/dev/null ||
    fail "train classify + SIGINT: the checkpoint does not classify"
[[ -s $tmp/int.resume.safetensors ]] || fail "train classify + SIGINT: no resumable state"

# --- eval classify -----------------------------------------------------------------------------
"$BIN" eval classify --model "$ckpt" --data "$tmp/test.tsv" >"$tmp/eval.out" 2>"$tmp/eval.err" ||
    fail "eval classify: $(cat "$tmp/eval.err")"
grep -q '^examples 30  accuracy 1.0000  macro_f1 1.0000' "$tmp/eval.out" ||
    fail "eval classify: not 100%: $(head -3 "$tmp/eval.out")"
grep -q 'precision' "$tmp/eval.out" && grep -q 'confusion matrix' "$tmp/eval.out" ||
    fail "eval classify: no per-class table or confusion matrix"
grep -Eq '^0 animal +10 +0 +0$' "$tmp/eval.out" || fail "eval classify: confusion row of animal"
"$BIN" eval classify --model "$ckpt" --data "$tmp/test.tsv" --json >"$tmp/eval.json" ||
    fail "eval classify --json"
[[ $(json_get "$tmp/eval.json" 'float(d["accuracy"]), float(d["macro_avg"]["f1"]), d["n"],
    d["skipped"], [c["name"] for c in d["classes"]], d["confusion"][1]') == \
    "1.0 1.0 30 0 ['animal', 'colour', 'number'] [0, 10, 0]" ]] ||
    fail "eval classify --json: $(cat "$tmp/eval.json")"

# Labels the model never saw: an error naming file, line and label, or skipped on request.
printf 'animal\tcat dog\nplant\ttree\ncolour\tred\n' >"$tmp/unknown.tsv"
"$BIN" eval classify --model "$ckpt" --data "$tmp/unknown.tsv" >/dev/null 2>"$tmp/err" &&
    fail "eval classify accepted an unknown label"
grep -q "^attn: $tmp/unknown.tsv:2: label 'plant' is not one of the 3 known labels" "$tmp/err" ||
    fail "eval classify unknown label message: $(cat "$tmp/err")"
"$BIN" eval classify --model "$ckpt" --data "$tmp/unknown.tsv" --skip-unknown --json \
    >"$tmp/skip.json" || fail "eval classify --skip-unknown: exit status"
[[ $(json_get "$tmp/skip.json" 'd["n"], d["skipped"], float(d["accuracy"])') == "2 1 1.0" ]] ||
    fail "eval classify --skip-unknown: $(cat "$tmp/skip.json")"

# --- classify ----------------------------------------------------------------------------------
"$BIN" classify --model "$ckpt" "cat horse duck" "red red blue" "seven two" >"$tmp/cls.out" ||
    fail "classify: exit status"
[[ $(cut -f1 "$tmp/cls.out" | tr '\n' ' ') == "animal colour number " ]] ||
    fail "classify: $(cat "$tmp/cls.out")"
"$PY" -c 'import sys; assert all(0.5 < float(l.split("\t")[1]) <= 1 for l in open(sys.argv[1]))' \
    "$tmp/cls.out" || fail "classify: probabilities $(cat "$tmp/cls.out")"
"$BIN" classify --model "$ckpt" --top 3 "goat" | awk -F'\t' 'NF != 6 { exit 1 }' ||
    fail "classify --top 3: not three label/probability pairs"
# stdin: one line per non-empty input line, in order; JSON lines; long texts cut and flagged.
long=$(printf 'one %.0s' $(seq 1 50))
printf 'dog cat\n\n   \nblue\n%s\n' "$long" |
    "$BIN" classify --model "$ckpt" --json --top 2 >"$tmp/cls.jsonl" || fail "classify stdin"
"$PY" - "$tmp/cls.jsonl" <<'EOF' || fail "classify --json: $(cat "$tmp/cls.jsonl")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["top"][0]["label"] for r in rows] == ["animal", "colour", "number"], rows
assert [r["truncated"] for r in rows] == [False, False, True], rows
assert all(len(r["top"]) == 2 and r["top"][0]["prob"] >= r["top"][1]["prob"] for r in rows)
assert abs(sum(t["prob"] for t in rows[0]["top"]) - 1) < 0.2
EOF

# --- attention -----------------------------------------------------------------------------------
"$BIN" attention --model "$ckpt" --out "$tmp/maps" "cat dog red" >"$tmp/att.out" 2>"$tmp/err" ||
    fail "attention: $(cat "$tmp/err")"
[[ $(ls "$tmp/maps"/layer*_head*.png 2>/dev/null | wc -l) -eq 2 ]] ||
    fail "attention: expected 2 heatmaps (1 layer x 2 heads): $(ls "$tmp/maps")"
for f in "$tmp/maps"/layer0_head0.png "$tmp/maps"/layer0_head1.png; do
    head -c 8 "$f" | od -An -tx1 | grep -q '89 50 4e 47' || fail "attention: $f is not a PNG"
done
[[ $(json_get "$tmp/maps/attention.json" 'd["n_layers"], d["n_heads"],
    d["n_queries"] == d["n_keys"] == len(d["query_tokens"]) > 3, d["query_tokens"][0],
    round(sum(d["probs"][0][1][2]), 4)') == "1 2 True [CLS] 1.0" ]] ||
    fail "attention.json: $(head -c 300 "$tmp/maps/attention.json")"
head -1 "$tmp/att.out" | grep -q '^animal' || fail "attention: prediction $(cat "$tmp/att.out")"

# --- cross-validation --------------------------------------------------------------------------
"$BIN" eval classify --folds 3 --data "$tmp/train.tsv" --epochs 6 "${TINY[@]}" --quiet \
    >"$tmp/cv.out" 2>"$tmp/err" || fail "eval classify --folds: $(cat "$tmp/err")"
[[ $(grep -c '^fold [123]/3  train 80  test 40 ' "$tmp/cv.out") -eq 3 ]] ||
    fail "eval classify --folds: fold lines $(cat "$tmp/cv.out")"
grep -Eq '^accuracy mean [01]\.[0-9]{4}  std [0-9.]+$' "$tmp/cv.out" &&
    grep -Eq '^macro_f1 mean [01]\.[0-9]{4}  std [0-9.]+$' "$tmp/cv.out" ||
    fail "eval classify --folds: summary $(cat "$tmp/cv.out")"
"$BIN" eval classify --folds 2 --data "$tmp/train.tsv" --epochs 1 "${TINY[@]}" --quiet --json \
    >"$tmp/cv.json" || fail "eval classify --folds --json"
"$PY" - "$tmp/cv.json" <<'EOF' || fail "eval classify --folds --json: $(cat "$tmp/cv.json")"
import json, statistics, sys
d = json.load(open(sys.argv[1]))
assert d["k"] == 2 and len(d["folds"]) == 2
assert sum(f["n_test"] for f in d["folds"]) == 120
acc = [f["accuracy"] for f in d["folds"]]
assert abs(d["accuracy"]["mean"] - statistics.mean(acc)) < 1e-6
assert abs(d["accuracy"]["std"] - statistics.pstdev(acc)) < 1e-6
EOF

# --- the committed samples: a real corpus runs end to end (20 classes, long texts cut) --------
S=$SRC/data/samples/fortunes
"$BIN" train classify --train "$S/train.tsv" --dev "$S/dev.tsv" --out "$tmp/f.safetensors" \
    --epochs 2 "${TINY[@]}" --max-len 32 --quiet >"$tmp/f.out" 2>"$tmp/err" ||
    fail "train classify on $S: $(cat "$tmp/err")"
grep -Eq '^epochs 2/2 .* texts 40  cut [1-9]' "$tmp/f.out" || fail "samples: $(cat "$tmp/f.out")"
"$BIN" eval classify --model "$tmp/f.safetensors" --data "$S/test.tsv" --skip-unknown --json \
    >"$tmp/f.json" || fail "eval classify on the samples"
json_get "$tmp/f.json" 'd["n"] + d["skipped"]' | grep -qx 40 || fail "samples eval: $(cat "$tmp/f.json")"

# --- ensembles: --model twice averages the two models' probabilities ---------------------------
m2=$tmp/int.safetensors # the Ctrl-C run above: same labels, other weights
for m in "$ckpt" "$m2"; do
    "$BIN" classify --model "$m" --top 3 --json "cat red" "seven blue" >>"$tmp/members.jsonl" ||
        fail "classify with $m"
done
"$BIN" classify --model "$ckpt" --model "$m2" --top 3 --json "cat red" "seven blue" \
    >"$tmp/ens.jsonl" || fail "classify with an ensemble: exit status"
"$PY" - "$tmp/members.jsonl" "$tmp/ens.jsonl" <<'EOF' || fail "ensemble probabilities"
import json, sys
probs = lambda r: {t["label"]: t["prob"] for t in r["top"]}
members = [probs(json.loads(l)) for l in open(sys.argv[1])]
ens = [probs(json.loads(l)) for l in open(sys.argv[2])]
assert len(members) == 4 and len(ens) == 2
for i, e in enumerate(ens):
    for label in ("animal", "colour", "number"):
        want = (members[i][label] + members[i + 2][label]) / 2
        assert abs(e[label] - want) < 2e-6, (i, label, e[label], want)
EOF
"$BIN" eval classify --model "$ckpt" --model "$m2" --data "$tmp/test.tsv" --json \
    >"$tmp/ens.json" || fail "eval classify with an ensemble"
"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["models"] == sys.argv[2:4] and "model" not in d and d["n"] == 30, d' \
    "$tmp/ens.json" "$ckpt" "$m2" || fail "eval classify ensemble JSON: $(head -c 300 "$tmp/ens.json")"
"$BIN" eval classify --model "$ckpt" --model "$tmp/f.safetensors" --data "$tmp/test.tsv" \
    >/dev/null 2>"$tmp/err" && fail "an ensemble of models with other labels was accepted"
grep -q "an ensemble needs one label set" "$tmp/err" || fail "ensemble labels: $(cat "$tmp/err")"

finish "classification"
