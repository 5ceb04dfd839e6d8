#!/usr/bin/env bash
# tests/repo/test_layers.sh: the include rules of docs/ARCHITECTURE.md. Each src/ folder includes
# only the folders below it (the table here is the one drawn there); the public headers count as
# the folder that implements them, except status.h, runtime.h and config.h, the types every layer
# shares. tools/ and examples/ include only the public headers (attn/...) and their own.
set -u
src=${ATTN_SOURCE_DIR:?}
declare -A may=(
    [core]=""
    [kernels]="core"
    [nn]="kernels core"
    [io]="core"
    [text]="io core"
    [eval]="core"
    [viz]="io core"
    [audio]="io core"
    [models]="nn kernels io viz core"
    [train]="models io core"
    [decode]="models nn kernels core"
    [data]="train models text io core"
    [tasks]="data decode train models nn text eval viz audio kernels io core"
)
declare -A owner=(
    [model.h]=models [safetensors.h]=io [train.h]=train [decode.h]=decode [tokenizer.h]=text
    [metrics.h]=eval [viz.h]=viz [data.h]=data [lm.h]=tasks [classifier.h]=tasks [attn.h]=tasks
    [translator.h]=tasks [asr.h]=tasks [audio.h]=audio
)
bad=0
complain() { echo "FAIL: $*" >&2; bad=$((bad + 1)); }
for dir in "$src"/src/*/; do
    f=$(basename "$dir")
    [[ -v may[$f] ]] || { complain "src/$f is not in the layer table (tests/repo/test_layers.sh)"; continue; }
    allowed=" $f ${may[$f]} "
    while IFS=: read -r file _ inc; do
        target=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"$inc")
        case $target in
            attn/status.h | attn/runtime.h | attn/config.h) continue ;;
            attn/*) layer=${owner[${target#attn/}]:-?} ;;
            */*) layer=${target%%/*} ;;
            *) continue ;; # a header of the same folder
        esac
        [[ $allowed == *" $layer "* ]] || complain "${file#"$src"/} includes $target ($layer is not below $f)"
    done < <(grep -Hn '^#include "' "$dir"*.[ch])
done
for file in "$src"/tools/*.[ch] "$src"/examples/*.c; do
    while IFS= read -r inc; do
        target=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"$inc")
        [[ $target == attn/* || $target != */* ]] ||
            complain "${file#"$src"/} includes $target: tools and examples use only the public API"
    done < <(grep '^#include "' "$file")
done
[[ $bad -eq 0 ]] || { echo "$bad include rule(s) broken" >&2; exit 1; }
echo "include rules hold"
