#!/usr/bin/python3
"""data/make_speech.py: the synthetic "speech" corpora, digits and sentences (data/README.md).

Speaks text with Debian's speech synthesisers and writes, per task, 16 kHz mono 16-bit WAVs and
train/dev/test.tsv with lines "path<TAB>transcript<TAB>speaker" (path relative to the task's
folder), plus {split}.params.tsv with every synthesis setting of each utterance.

- Tasks: digits (3-7 digits spoken as words, "three one four"; the digit strings of the three
  splits are disjoint by a sha1 rule) and sentences (4-12-word chunks of the World English Bible
  verses of data/corpora/bible, lower-cased, letters and apostrophes only; test chunks come from
  the Bible's test verses, dev from dev, train from train, and no text is in two splits).
- train: espeak-ng, 7 English accents x 12 variants, 130-200 words a minute, pitch 25-75, half
  the utterances with white Gaussian noise at 20-40 dB SNR (generated here, seeded).
- dev: the same recipe with espeak-ng voices that train never uses (accent en-us-nyc, or a
  training accent with variant +m8 or +f5).
- test: flite's voices kal, awb, rms and slt, never used in train or dev, duration stretch
  0.85-1.2, no noise. kal speaks at 8 kHz: resampled to 16 kHz, it has nothing above 4 kHz.
- train-ked (only with --train-ked N): N more training utterances by festival's ked diphone
  voice, duration stretch 0.85-1.2, intonation targets drawn per utterance, noise as train,
  and with --ked-speed LO,HI a sox speed factor (pitch and formants scaled together);
  train-all.tsv lists train and train-ked together.

Deterministic: every setting of utterance i of a split comes from random.Random seeded with
sha256("SEED:TASK:SPLIT:i"), so the same seed gives byte-identical files, and asking for more
utterances leaves the earlier ones unchanged. Resampling is sox's "rate -h" with dither off
(-D); the noise is Python's random.gauss, mixed here, and the WAV is written by the wave module.

Usage: /usr/bin/python3 data/make_speech.py [--out DIR] [--seed N] [--task digits|sentences|both]
           [--train-digits N] [--train-sentences N] [--dev N] [--test N] [--splits train,dev,test]
           [--jobs 1] [--train-ked N] [--ked-speed 1,1]
       /usr/bin/python3 data/make_speech.py --write-samples data/samples/speech  (after a build)
Needs the Debian packages espeak-ng flite sox, and for --train-ked festival festvox-kdlpc16k
(installed with apt-get when missing and root).
"""
import argparse
import array
import hashlib
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
import wave

PACKAGES = ("espeak-ng", "flite", "sox")
KED_PACKAGES = ("festival", "festvox-kdlpc16k")  # only for --train-ked
RATE = 16000
SPLITS = ("train", "dev", "test")
KED_SPLIT = "train-ked"  # the optional second training synthesiser: festival's ked diphone voice

TRAIN_ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan",
                 "en-gb-x-gbcwmd", "en-029")
TRAIN_VARIANTS = ("", "+m1", "+m2", "+m3", "+m4", "+m5", "+m6", "+m7", "+f1", "+f2", "+f3", "+f4")
DEV_ACCENT = "en-us-nyc"  # dev: this accent with any training variant ...
DEV_VARIANTS = ("+m8", "+f5")  # ... or a training accent with one of these variants
TEST_VOICES = ("kal", "awb", "rms", "slt")  # flite; kal speaks at 8 kHz, the others at 16 kHz
WPM, PITCH, SNR_DB, STRETCH = (130, 200), (25, 75), (20.0, 40.0), (0.85, 1.2)
NOISY_SHARE = 0.5
KED_F0_MEAN, KED_F0_STD = (85, 150), (10, 30)  # Hz: ked's intonation targets, drawn per utterance
KED_BATCH = 50  # utterances per festival process (its start-up is ~0.8 s)
ked_speed = (1.0, 1.0)  # --ked-speed: sox "speed" range for ked (pitch and formants scaled alike)

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
DIGITS_LEN = (3, 7)
DIGITS_SALT = "speech-digits-v1:"
SENTENCE_WORDS = (4, 12)
CHUNK_SALT = "speech-chunk-v1:"
SENTENCE_SALT = "speech-sentences-v1:"
DEFAULTS = {"train-digits": 4000, "train-sentences": 12000, "dev": {"digits": 200, "sentences": 400},
            "test": {"digits": 200, "sentences": 400}}


def utterance_rng(seed, task, split, index):
    """The random.Random of one utterance: its settings depend on nothing else."""
    key = "%d:%s:%s:%d" % (seed, task, split, index)
    return random.Random(int(hashlib.sha256(key.encode()).hexdigest(), 16))


# --- what is said -------------------------------------------------------------------------------
def digits_split(digits):
    """The split a digit string belongs to: sha1(DIGITS_SALT + digits) mod 10, 0 test, 1 dev."""
    bucket = int(hashlib.sha1((DIGITS_SALT + digits).encode()).hexdigest(), 16) % 10
    return "test" if bucket == 0 else "dev" if bucket == 1 else "train"


def draw_digits(rng, split):
    """A digit string of DIGITS_LEN digits that belongs to `split`, spoken as words."""
    while True:
        n = rng.randint(*DIGITS_LEN)
        digits = "".join(str(rng.randrange(10)) for _ in range(n))
        if digits_split(digits) == split:
            return " ".join(DIGIT_WORDS[int(d)] for d in digits)


_CLAUSE_END = re.compile(r"[.,;:?!()\u2014\u2013\u201c\u201d\"]")
_NOT_LETTER = re.compile(r"[^a-z']+")


def normalise_words(text):
    """Lower-case a-z words and inner apostrophes: accents stripped, curly apostrophes made
    straight, hyphens and other marks become spaces, apostrophes at a word's ends dropped
    (they are quotation marks as often as plural possessives: "fathers'" -> "fathers")."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    words = (w.strip("'") for w in _NOT_LETTER.sub(" ", text).split())
    return [w for w in words if w]


def chunk_verse(ref, text):
    """A verse cut into chunks of 4-12 words, preferring clause ends: each chunk's target length
    is drawn (seeded by the ref) and it ends at the clause end nearest to it, or mid-clause when
    no clause ends within 4-12 words. A tail under 4 words joins the last chunk when that stays
    within 12 words, else it is dropped. Returns lists of words."""
    words, ends = [], set()
    for clause in _CLAUSE_END.split(text):
        w = normalise_words(clause)
        if w:
            words += w
            ends.add(len(words))
    rng = random.Random(int(hashlib.sha1((CHUNK_SALT + ref).encode()).hexdigest(), 16))
    lo, hi = SENTENCE_WORDS
    chunks, i = [], 0
    while len(words) - i >= lo:
        target = i + rng.randint(lo, hi)
        cands = [j for j in range(i + lo, min(i + hi, len(words)) + 1) if j in ends]
        j = min(cands, key=lambda j: (abs(j - target), j)) if cands else min(target, len(words))
        if 0 < len(words) - j < lo and j - i + len(words) - j <= hi:
            j = len(words)
        chunks.append(words[i:j])
        i = j
    return chunks


def sentence_texts(bible_dir):
    """{split: [text, ...]}: the chunks of the Bible split's English verses, each text once over
    the three splits (test first, then dev, then train keep it), ordered by
    sha1(SENTENCE_SALT + text), so the first N of a split never change when N grows."""
    seen, out = set(), {}
    for split in ("test", "dev", "train"):
        texts = []
        with open(os.path.join(bible_dir, split + ".tsv"), encoding="utf-8") as f:
            for line in f:
                ref, english, _ = line.rstrip("\n").split("\t")
                for chunk in chunk_verse(ref, english):
                    text = " ".join(chunk)
                    if text not in seen:
                        seen.add(text)
                        texts.append(text)
        texts.sort(key=lambda t: hashlib.sha1((SENTENCE_SALT + t).encode()).hexdigest())
        out[split] = texts
    return out


# --- how it is said -----------------------------------------------------------------------------
def draw_voice(rng, split):
    """The synthesis settings of one utterance of `split` (a dict, all decided here)."""
    if split == KED_SPLIT:
        p = {"synth": "festival", "voice": "ked", "stretch": round(rng.uniform(*STRETCH), 3),
             "f0": (rng.randint(*KED_F0_MEAN), rng.randint(*KED_F0_STD)), "snr": None}
        if rng.random() < NOISY_SHARE:
            p["snr"] = round(rng.uniform(*SNR_DB), 2)
            p["noise_seed"] = rng.getrandbits(64)
        if ked_speed != (1.0, 1.0):  # drawn last: without it, every other setting is as before
            p["speed"] = round(rng.uniform(*ked_speed), 3)
        return p
    if split == "test":
        return {"synth": "flite", "voice": rng.choice(TEST_VOICES),
                "stretch": round(rng.uniform(*STRETCH), 3), "snr": None}
    if split == "train":
        voice = rng.choice(TRAIN_ACCENTS) + rng.choice(TRAIN_VARIANTS)
    else:
        held_out = [DEV_ACCENT + v for v in TRAIN_VARIANTS] + \
                   [a + v for a in TRAIN_ACCENTS for v in DEV_VARIANTS]
        voice = rng.choice(held_out)
    p = {"synth": "espeak-ng", "voice": voice, "wpm": rng.randint(*WPM),
         "pitch": rng.randint(*PITCH), "snr": None}
    if rng.random() < NOISY_SHARE:
        p["snr"] = round(rng.uniform(*SNR_DB), 2)
        p["noise_seed"] = rng.getrandbits(64)
    return p


def synthesise(job):
    """Speaks job["text"] with job's settings and writes job["wav"] (16 kHz mono 16-bit)."""
    with tempfile.TemporaryDirectory(prefix="make_speech.") as tmp:
        raw_wav = os.path.join(tmp, "raw.wav")
        if job["synth"] == "espeak-ng":
            cmd = ["espeak-ng", "-v", job["voice"], "-s", str(job["wpm"]), "-p", str(job["pitch"]),
                   "-w", raw_wav, "--", job["text"]]
        else:
            cmd = ["flite", "-voice", job["voice"], "--setf", "duration_stretch=%.3f" % job["stretch"],
                   "-t", job["text"], "-o", raw_wav]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return finish(job, raw_wav)


def synthesise_ked(jobs):
    """synthesise() for festival's ked: one festival process speaks a batch of jobs (its voice
    loads once), each with its own duration stretch and intonation targets. Returns lengths."""
    with tempfile.TemporaryDirectory(prefix="make_speech.") as tmp:
        script = ["(voice_ked_diphone)"]
        for k, job in enumerate(jobs):
            text = job["text"].replace("\\", " ").replace('"', " ")
            # sox's speed shortens by its factor: the stretch makes up for it
            stretch = job["stretch"] * job.get("speed", 1.0)
            script += ["(Parameter.set 'Duration_Stretch %.4f)" % stretch,
                       "(set! int_lr_params '((target_f0_mean %d) (target_f0_std %d) "
                       "(model_f0_mean 170) (model_f0_std 34)))" % job["f0"],
                       '(utt.save.wave (utt.synth (Utterance Text "%s")) "%s" \'riff)'
                       % (text, os.path.join(tmp, "%d.wav" % k))]
        with open(os.path.join(tmp, "batch.scm"), "w", encoding="utf-8") as f:
            f.write("\n".join(script) + "\n")
        subprocess.run(["festival", "--batch", os.path.join(tmp, "batch.scm")], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return [finish(job, os.path.join(tmp, "%d.wav" % k)) for k, job in enumerate(jobs)]


def finish(job, raw_wav):
    """The synthesiser's raw_wav as 16 kHz mono 16-bit samples, noise added when the job says so,
    written to job["wav"]. Returns its length in samples."""
    # -D: no dither, so the output is a function of the input; rate -h: sox's high-quality
    # resampler (a no-op when the synthesiser already writes 16 kHz)
    # "speed F" (--ked-speed) plays the audio F times faster: pitch and formants up by F, as a
    # shorter vocal tract would have them
    speed = ["speed", "%.3f" % job["speed"]] if "speed" in job else []
    pcm = subprocess.run(["sox", "-D", "-V1", raw_wav, "-t", "raw", "-e", "signed-integer",
                          "-b", "16", "-c", "1", "-L", "-"] + speed + ["rate", "-h", str(RATE)],
                         check=True, stdout=subprocess.PIPE).stdout
    samples = array.array("h")
    samples.frombytes(pcm)
    if sys.byteorder == "big":
        samples.byteswap()
    if not samples:
        raise RuntimeError("%s: no audio for %r" % (job["voice"], job["text"]))
    if job["snr"] is not None:
        samples = add_noise(samples, job["snr"], job["noise_seed"])
    if sys.byteorder == "big":
        samples.byteswap()
    tmp_path = job["wav"] + ".tmp"
    with wave.open(tmp_path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())
    os.replace(tmp_path, job["wav"])
    return len(pcm) // 2


def add_noise(samples, snr_db, seed):
    """samples + white Gaussian noise of RMS rms(samples) / 10^(snr_db / 20), rounded and clipped
    to 16 bits. The RMS is over the whole utterance, its silences included."""
    rms = math.sqrt(sum(float(x) * x for x in samples) / len(samples))
    sigma = rms / 10.0 ** (snr_db / 20.0)
    gauss = random.Random(seed).gauss
    out = array.array("h", bytes(2 * len(samples)))
    for i, x in enumerate(samples):
        v = round(x + sigma * gauss(0.0, 1.0))
        out[i] = 32767 if v > 32767 else -32768 if v < -32768 else v
    return out


# --- the corpus ---------------------------------------------------------------------------------
def job_for(task, split, index, seed, text=None):
    """Utterance `index` of a split: its text (drawn for digits; given for sentences), voice
    settings and path. Depends on nothing but its arguments."""
    rng = utterance_rng(seed, task, split, index)
    if task == "digits":
        text = draw_digits(rng, "train" if split == KED_SPLIT else split)
    job = draw_voice(rng, split)
    job.update(text=text, index=index, path="wav/%s/%06d.wav" % (split, index))
    return job


def plan(task, split, n, seed, texts=None):
    """The n jobs of one split, in index order."""
    return [job_for(task, split, i, seed, texts[i] if texts else None) for i in range(n)]


def speaker_of(job):
    return "%s:%s" % (job["synth"], job["voice"])


def params_line(job):
    pitch = job.get("pitch", "%d~%d" % job["f0"] if "f0" in job else "-")
    fields = [job["path"], speaker_of(job), str(job.get("wpm", "-")), str(pitch),
              ("%.3f" % job["stretch"] if "stretch" in job else "-") +
              ("*%.3f" % job["speed"] if "speed" in job else ""),
              "%.2f" % job["snr"] if job["snr"] is not None else "-"]
    return "\t".join(fields)


def write_split(task_dir, split, jobs, n_jobs):
    """Synthesises the jobs and writes SPLIT.tsv and SPLIT.params.tsv. Returns total samples."""
    os.makedirs(os.path.join(task_dir, "wav", split), exist_ok=True)
    for job in jobs:
        job["wav"] = os.path.join(task_dir, job["path"])
    if split == KED_SPLIT:
        work, batches = synthesise_ked, [jobs[i:i + KED_BATCH] for i in range(0, len(jobs), KED_BATCH)]
    else:
        work, batches = synthesise, jobs
    if n_jobs > 1:
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(max_workers=n_jobs) as pool:
            lengths = list(pool.map(work, batches, chunksize=1 if split == KED_SPLIT else 8))
    else:
        lengths = [work(b) for b in batches]
    if split == KED_SPLIT:
        lengths = [n for batch in lengths for n in batch]
    for name, line in ((split + ".tsv", lambda j: "%s\t%s\t%s" % (j["path"], j["text"], speaker_of(j))),
                       (split + ".params.tsv", params_line)):
        path = os.path.join(task_dir, name)
        with open(path + ".tmp", "w", encoding="utf-8", newline="\n") as f:
            if name.endswith("params.tsv"):
                f.write("path\tspeaker\twpm\tpitch\tstretch\tsnr_db\n")
            for job in jobs:
                f.write(line(job) + "\n")
        os.replace(path + ".tmp", path)
    # a rebuild with fewer utterances must not leave stale WAVs behind
    keep = {os.path.basename(j["path"]) for j in jobs}
    for name in os.listdir(os.path.join(task_dir, "wav", split)):
        if name not in keep:
            os.remove(os.path.join(task_dir, "wav", split, name))
    return sum(lengths)


def write_samples(corpus_dir, samples_dir, first=50):
    """The committed samples: for each task and split of the corpus in corpus_dir, the shortest
    WAV (fewest bytes, then lowest index) of the first `first` utterances, among the noisy ones
    for train and the clean ones for dev and test (so both paths are tested), copied with its
    lines of SPLIT.tsv and SPLIT.params.tsv into samples_dir/TASK/ (the corpus's own layout)."""
    for task in ("digits", "sentences"):
        for split in SPLITS:
            src, dst = os.path.join(corpus_dir, task), os.path.join(samples_dir, task)
            with open(os.path.join(src, split + ".tsv"), encoding="utf-8") as f:
                lines = [l for l in f][:first]
            with open(os.path.join(src, split + ".params.tsv"), encoding="utf-8") as f:
                header, params = f.readline(), {l.split("\t", 1)[0]: l for l in f}
            noisy = split == "train"
            lines = [l for l in lines if (params[l.split("\t")[0]].rstrip("\n")[-1] != "-") == noisy]
            line = min(lines, key=lambda l: (os.path.getsize(os.path.join(src, l.split("\t")[0])), l))
            path = line.split("\t")[0]
            os.makedirs(os.path.dirname(os.path.join(dst, path)), exist_ok=True)
            for name in os.listdir(os.path.dirname(os.path.join(dst, path))):
                os.remove(os.path.join(dst, "wav", split, name))
            shutil.copyfile(os.path.join(src, path), os.path.join(dst, path))
            with open(os.path.join(dst, split + ".tsv"), "w", encoding="utf-8", newline="\n") as f:
                f.write(line)
            with open(os.path.join(dst, split + ".params.tsv"), "w", encoding="utf-8", newline="\n") as f:
                f.write(header + params[path])
            print("%s/%s" % (task, line.rstrip("\n")))


def installed(package):
    if shutil.which(package):
        return True
    return subprocess.run(["dpkg-query", "-W", "-f", "${Status}", package], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL).stdout.endswith(b" installed")


def ensure_packages(packages):
    missing = [p for p in packages if not installed(p)]
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit("make_speech: missing %s (apt-get install %s)" % (" ".join(missing), " ".join(packages)))
    print("make_speech: installing %s" % " ".join(missing), file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing,
                      env=env).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing,
                       env=env, check=True)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "corpora", "speech"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--task", choices=("digits", "sentences", "both"), default="both")
    ap.add_argument("--train-digits", type=int, default=DEFAULTS["train-digits"])
    ap.add_argument("--train-sentences", type=int, default=DEFAULTS["train-sentences"])
    ap.add_argument("--train-ked", type=int, default=0, metavar="N",
                    help="also write N training utterances in festival's ked voice (train-ked.tsv; "
                         "sentences take training texts after train's own)")
    ap.add_argument("--ked-speed", default="1,1", metavar="LO,HI",
                    help="sox speed factor range for train-ked (default 1,1: none)")
    ap.add_argument("--dev", type=int, help="dev utterances per task (default 200 digits, 400 sentences)")
    ap.add_argument("--test", type=int, help="test utterances per task (default 200 digits, 400 sentences)")
    ap.add_argument("--bible", default=os.path.join(here, "corpora", "bible"),
                    help="the bible corpus folder (built with make_bible.py when missing)")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--splits", default="train,dev,test",
                    help="the splits to (re)build, comma-separated (the others are left as they are)")
    ap.add_argument("--write-samples", metavar="DIR",
                    help="build nothing: copy the samples of the corpus in --out into DIR")
    args = ap.parse_args()
    if args.write_samples:
        write_samples(args.out, args.write_samples)
        return
    global ked_speed
    ked_speed = tuple(float(x) for x in args.ked_speed.split(","))
    if len(ked_speed) != 2 or not 0.5 <= ked_speed[0] <= ked_speed[1] <= 2.0:
        sys.exit("make_speech: --ked-speed wants LO,HI within 0.5-2")
    ensure_packages(PACKAGES + (KED_PACKAGES if args.train_ked else ()))
    tasks = ("digits", "sentences") if args.task == "both" else (args.task,)
    for task in tasks:
        start = time.time()
        texts = None
        counts = {"train": args.train_digits if task == "digits" else args.train_sentences,
                  "dev": args.dev if args.dev is not None else DEFAULTS["dev"][task],
                  "test": args.test if args.test is not None else DEFAULTS["test"][task],
                  KED_SPLIT: args.train_ked}
        if task == "sentences":
            if not os.path.exists(os.path.join(args.bible, "test.tsv")):
                subprocess.run([sys.executable, os.path.join(here, "make_bible.py"), "--out", args.bible],
                               check=True, stdout=subprocess.DEVNULL)
            texts = sentence_texts(args.bible)
            rest = texts["train"][counts["train"]:]
            texts[KED_SPLIT] = [rest[i % len(rest)] if rest else texts["train"][i % len(texts["train"])]
                                for i in range(args.train_ked)]
            for split in SPLITS:
                if counts[split] > len(texts[split]):
                    sys.exit("make_speech: only %d %s sentences" % (len(texts[split]), split))
        task_dir = os.path.join(args.out, task)
        splits = [s for s in SPLITS if s in args.splits.split(",")]
        if args.train_ked:
            splits.append(KED_SPLIT)
        print("%s: %s" % (task, "  ".join("%s %d" % (s, counts[s]) for s in splits)))
        print("split      utterances  speakers   hours   mean s    MB")
        for split in splits:
            jobs = plan(task, split, counts[split], args.seed, texts and texts[split])
            samples = write_split(task_dir, split, jobs, args.jobs)
            n = max(len(jobs), 1)
            print("%-10s %10d %9d %7.2f %8.2f %5.0f" % (
                split, len(jobs), len({speaker_of(j) for j in jobs}), samples / RATE / 3600,
                samples / RATE / n, (samples * 2 + 44 * len(jobs)) / 1e6))
        if args.train_ked and os.path.exists(os.path.join(task_dir, "train.tsv")):
            # the two training sets as one list, for attn train asr --train
            with open(os.path.join(task_dir, "train-all.tsv.tmp"), "w", encoding="utf-8", newline="\n") as f:
                for name in ("train.tsv", KED_SPLIT + ".tsv"):
                    with open(os.path.join(task_dir, name), encoding="utf-8") as g:
                        f.write(g.read())
            os.replace(os.path.join(task_dir, "train-all.tsv.tmp"), os.path.join(task_dir, "train-all.tsv"))
        if texts:
            print("sentence pool (distinct 4-12-word texts): " +
                  "  ".join("%s %d" % (s, len(texts[s])) for s in SPLITS))
        print("-> %s (%.0f s)" % (task_dir, time.time() - start))


if __name__ == "__main__":
    main()
