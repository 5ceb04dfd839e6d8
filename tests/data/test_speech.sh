#!/usr/bin/env bash
# tests/data/test_speech.sh: the synthetic speech corpora of data/make_speech.py.
#  1. The committed samples (data/samples/speech/{digits,sentences}/{train,dev,test}.tsv and
#     their WAVs) are well-formed: "path<TAB>transcript<TAB>speaker", the path a WAV of the
#     corpus layout that exists, 16 kHz mono 16-bit PCM, at least 0.3 s long; transcripts of
#     a-z words and apostrophes (3-7 digit words; 4-12 words); train speakers from the training
#     voices, dev speakers never among them, test speakers flite's; the digit strings in the
#     split the sha1 rule gives them; params lines matching.
#  2. normalise_words and chunk_verse on made-up verses.
#  3. Where espeak-ng, flite and sox are installed: every sample utterance synthesised again
#     from its (seed, task, split, index) alone, byte-identical to the committed WAV (two of
#     them twice over, so run-to-run determinism is checked too); and, where festival's ked is
#     installed too (scripts/install-deps.sh installs it), two --train-ked utterances per task
#     synthesised twice, identical. Otherwise exit 77 (skipped) after 1 and 2.
source "$(dirname "$0")/../common/script.sh"
samples=$SRC/data/samples/speech

# --- 1 and 2: the samples, the text rules ---------------------------------------------------
"$PY" - "$SRC/data" "$samples" <<'PYEOF' || fail "samples / text rules"
import os, re, sys, wave
sys.path.insert(0, sys.argv[1])
import make_speech as ms
samples = sys.argv[2]
train_voices = {"espeak-ng:" + a + v for a in ms.TRAIN_ACCENTS for v in ms.TRAIN_VARIANTS}
n_wavs = 0
for task in ("digits", "sentences"):
    for split in ms.SPLITS:
        d = os.path.join(samples, task)
        with open(os.path.join(d, split + ".tsv"), encoding="utf-8", newline="") as f:
            lines = f.read().split("\n")
        assert lines[-1] == "" and len(lines) >= 2, (task, split, "empty or no final newline")
        with open(os.path.join(d, split + ".params.tsv"), encoding="utf-8") as f:
            params = f.read().split("\n")
        assert params[0] == "path\tspeaker\twpm\tpitch\tstretch\tsnr_db", params[0]
        params = {l.split("\t")[0]: l.split("\t") for l in params[1:] if l}
        for line in lines[:-1]:
            fields = line.split("\t")
            assert len(fields) == 3, (task, split, line)
            path, text, speaker = fields
            assert re.fullmatch(r"wav/%s/[0-9]{6}\.wav" % split, path), path
            assert re.fullmatch(r"[a-z']+( [a-z']+)*", text), text
            words = text.split()
            if task == "digits":
                assert 3 <= len(words) <= 7 and set(words) <= set(ms.DIGIT_WORDS), text
                digits = "".join(str(ms.DIGIT_WORDS.index(w)) for w in words)
                assert ms.digits_split(digits) == split, (digits, split)
            else:
                assert 4 <= len(words) <= 12, text
            if split == "train":
                assert speaker in train_voices, speaker
            elif split == "dev":
                assert speaker.startswith("espeak-ng:") and speaker not in train_voices, speaker
            else:
                assert speaker in {"flite:" + v for v in ms.TEST_VOICES}, speaker
            assert params[path][1] == speaker, (path, params[path])
            with wave.open(os.path.join(d, path), "rb") as w:
                assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getcomptype()) == \
                    (1, 2, 16000, "NONE"), (path, w.getparams())
                assert w.getnframes() >= 0.3 * 16000, (path, w.getnframes())
            with open(os.path.join(d, path), "rb") as f:
                head = f.read(44)
            assert head[:4] == b"RIFF" and head[8:16] == b"WAVEfmt " and head[36:40] == b"data", path
            n_wavs += 1
assert n_wavs >= 6, n_wavs

# text rules
assert ms.normalise_words("\u201cDon\u2019t\u201d\u2014the burnt-offering of my fathers\u2019 God\u2019s.") == \
    ["don't", "the", "burnt", "offering", "of", "my", "fathers", "god's"]
assert ms.normalise_words("Ca\u00efaphas, 'Abba!'") == ["caiaphas", "abba"]
verse = ("In the beginning, God created the heavens and the earth. The earth was formless and "
         "empty; darkness was on the surface of the deep and God\u2019s Spirit was hovering over "
         "the surface of the waters.")
chunks = ms.chunk_verse("Gen.1.1", verse)
assert chunks == ms.chunk_verse("Gen.1.1", verse), "not deterministic"
assert all(4 <= len(c) <= 12 for c in chunks), chunks
flat = [w for c in chunks for w in c]
assert flat == ms.normalise_words(verse)[:len(flat)], "chunks are not the verse in order"
assert ms.chunk_verse("X.1.1", "Jesus wept.") == [], "a 2-word verse gave a chunk"
print("samples: %d WAVs ok" % n_wavs)
PYEOF

# --- 3. regeneration, where the synthesisers are installed ------------------------------------
if ! command -v espeak-ng >/dev/null || ! command -v flite >/dev/null || ! command -v sox >/dev/null; then
    if [[ $failures -ne 0 ]]; then
        echo "$failures failure(s)" >&2
        exit 1
    fi
    echo "data/test_speech: samples ok; SKIPPED the regeneration: no espeak-ng, flite or sox"
    exit 77
fi
"$PY" - "$SRC/data" "$samples" "$tmp" <<'PYEOF' || fail "regeneration"
import filecmp, os, sys
sys.path.insert(0, sys.argv[1])
import make_speech as ms
samples, tmp = sys.argv[2], sys.argv[3]
done = []
for task in ("digits", "sentences"):
    for split in ms.SPLITS:
        with open(os.path.join(samples, task, split + ".tsv"), encoding="utf-8") as f:
            for line in f:
                path, text, speaker = line.rstrip("\n").split("\t")
                index = int(os.path.basename(path)[:-4])
                job = ms.job_for(task, split, index, 1, text if task == "sentences" else None)
                assert job["text"] == text, (task, split, index, job["text"], text)
                assert ms.speaker_of(job) == speaker, (job, speaker)
                for run in (1, 2) if split in ("train", "test") and task == "digits" else (1,):
                    job["wav"] = os.path.join(tmp, "%s-%s-%d-%d.wav" % (task, split, index, run))
                    ms.synthesise(job)
                    assert filecmp.cmp(job["wav"], os.path.join(samples, task, path), shallow=False), \
                        "%s/%s differs when synthesised again (run %d)" % (task, path, run)
                done.append("%s/%s" % (task, path))
print("regenerated byte for byte: " + " ".join(done))

# the optional second training synthesiser (--train-ked): festival's ked, deterministic too
if ms.installed("festival") and ms.installed("festvox-kdlpc16k"):
    for task, texts in (("digits", None), ("sentences", ["in the beginning god created", "and it was so"])):
        runs = []
        for run in (1, 2):
            jobs = ms.plan(task, ms.KED_SPLIT, 2, 1, texts)
            for job in jobs:
                job["wav"] = os.path.join(tmp, "ked-%s-%d-%d.wav" % (task, job["index"], run))
            lengths = ms.synthesise_ked(jobs)
            assert all(n >= 0.3 * 16000 for n in lengths), lengths
            runs.append([open(j["wav"], "rb").read() for j in jobs])
            for job in jobs:
                assert ms.speaker_of(job) == "festival:ked" and job["path"].startswith("wav/train-ked/"), job
                assert 0.85 <= job["stretch"] <= 1.2 and 85 <= job["f0"][0] <= 150, job
                if task == "digits":
                    digits = "".join(str(ms.DIGIT_WORDS.index(w)) for w in job["text"].split())
                    assert ms.digits_split(digits) == "train", job
        assert runs[0] == runs[1], "%s: ked's WAVs differ between two runs" % task
        assert runs[0][0] != runs[0][1], "%s: two ked utterances are the same file" % task
    # --ked-speed: drawn last, so the other settings stay; the audio changes, deterministically
    plain = ms.plan("digits", ms.KED_SPLIT, 1, 1)[0]
    ms.ked_speed = (1.1, 1.2)
    fast = [ms.plan("digits", ms.KED_SPLIT, 1, 1)[0] for run in (1, 2)]
    ms.ked_speed = (1.0, 1.0)
    assert 1.1 <= fast[0]["speed"] <= 1.2 and "speed" not in plain, (plain, fast[0])
    assert {k: v for k, v in fast[0].items() if k != "speed"} == plain, (plain, fast[0])
    assert ms.params_line(fast[0]).split("\t")[4] == "%.3f*%.3f" % (plain["stretch"], fast[0]["speed"])
    for run, job in enumerate(fast + [plain]):
        job["wav"] = os.path.join(tmp, "ked-speed-%d.wav" % run)
        ms.synthesise_ked([job])
    a, b, c = (open(j["wav"], "rb").read() for j in fast + [plain])
    assert a == b, "ked --ked-speed: two runs differ"
    assert a != c, "ked --ked-speed: the same audio as without it"
    print("ked: 2 digits and 2 sentences utterances identical over two runs; --ked-speed too")
else:
    print("ked: festival or festvox-kdlpc16k not installed, its check skipped")
PYEOF

finish "speech corpus"
