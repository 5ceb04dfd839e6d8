#!/usr/bin/python3
"""data/make_debdesc.py: the "debdesc" corpus, Debian 12 package descriptions labelled by Section.

Steps (data/README.md has the reasons):
1. `apt-get update` into a PRIVATE state folder (--apt-dir): own lists, own cache, no locking, no
   update hooks, English translations on, architecture amd64. The mirrors are whatever the
   system's sources.list(.d) names; nothing here hard-codes one. The system's apt state, lists
   and lock are not touched. --no-update reuses the lists of an earlier run.
2. `apt-get indextargets` says which downloaded file is which; we keep the "main" component of the
   suites with codenames bookworm, bookworm-updates and bookworm-security: the Packages files of
   binary-amd64 (which list the amd64 and the "all" packages) and the Translation-en files.
3. A package in several suites is kept once, at its highest version (dpkg --compare-versions).
4. Text = the Description-en of Translation-en whose Description-md5 matches the package's
   (short description + long description); the Packages file's own Description when there is no
   match. Flattened: the leading space of continuation lines stripped, " ." paragraph lines
   become spaces, whitespace collapsed.
5. Label = Section, less any area prefix ("contrib/", "non-free/", ...).
6. Texts occurring more than once are dropped (every copy), then the 20 largest sections kept.
7. Split key = the source package (Source field without its version, else the package name), so
   libfoo1, libfoo-dev and libfoo-doc always land in one split.

Usage: /usr/bin/python3 data/make_debdesc.py [--out DIR] [--apt-dir DIR] [--no-update]
                                             [--codename bookworm] [--classes 20]
Python 3 standard library, apt-get and dpkg. Output rows are sorted by package name.
"""
import argparse
import os
import subprocess
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_common import collapse_whitespace, drop_duplicated_texts, write_corpus  # noqa: E402

ARCH = "amd64"
COMPONENT = "main"
APT_HELPER = "/usr/lib/apt/apt-helper"
COMPRESSED_SUFFIXES = ("", ".lz4", ".zst", ".gz", ".xz", ".bz2", ".lzma")

# Read after the system's apt.conf.d (apt-get -c), so "#clear" can empty the system's lists.
# Update hooks are cleared: they would refresh system caches (AppStream, PackageKit).
APT_CONF = """\
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
#clear Acquire::Languages;
Acquire::Languages {{ "en"; }};
Acquire::GzipIndexes "false";
Dir::State::Lists "{lists}/";
Dir::Cache "{cache}/";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Debug::NoLocking "true";
APT::Architecture "{arch}";
#clear APT::Architectures;
APT::Architectures {{ "{arch}"; }};
"""


def fail(msg):
    sys.exit("make_debdesc: " + msg)


def apt_setup(apt_dir):
    """Creates the private apt folders and config file; returns the config file's path."""
    apt_dir = os.path.abspath(apt_dir)
    lists, cache = os.path.join(apt_dir, "lists"), os.path.join(apt_dir, "cache")
    for d in (os.path.join(lists, "partial"), os.path.join(cache, "archives", "partial")):
        os.makedirs(d, exist_ok=True)
    conf = os.path.join(apt_dir, "apt.conf")
    with open(conf, "w") as f:
        f.write(APT_CONF.format(lists=lists, cache=cache, arch=ARCH))
    return conf


def apt_update(conf):
    print("make_debdesc: apt-get update (private lists, the system's sources)", flush=True)
    r = subprocess.run(["apt-get", "-c", conf, "-o", "Acquire::Languages=en", "-q", "update"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        fail("apt-get update failed:\n" + r.stdout)


def parse_deb822(text):
    """Yields the stanzas of a deb822 text as dicts; a field's continuation lines are kept, joined
    to its first line with '\\n' (the leading space of each continuation line kept)."""
    stanza, field = {}, None
    for line in text.split("\n"):
        if not line.strip():
            if stanza:
                yield stanza
            stanza, field = {}, None
        elif line[0] in " \t":
            if field is not None:
                stanza[field] += "\n" + line
        else:
            name, sep, value = line.partition(":")
            if not sep:
                continue  # not a field; malformed line
            field = name.strip()
            stanza[field] = value.strip()
    if stanza:
        yield stanza


def index_targets(conf):
    """The index files apt knows of, as dicts of apt-get indextargets' fields."""
    r = subprocess.run(["apt-get", "-c", conf, "indextargets"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        fail("apt-get indextargets failed: " + r.stderr)
    return list(parse_deb822(r.stdout))


def read_index(filename):
    """The text of a downloaded index file, decompressing with apt's own helper if needed."""
    for suffix in COMPRESSED_SUFFIXES:
        path = filename + suffix
        if not os.path.exists(path):
            continue
        if suffix == "":
            with open(path, encoding="utf-8", errors="replace") as f:
                return f.read()
        r = subprocess.run([APT_HELPER, "cat-file", path], stdout=subprocess.PIPE, check=True)
        return r.stdout.decode("utf-8", errors="replace")
    return None


def pick_targets(targets, codename):
    """(Packages files, Translation-en files) of component main, arch amd64, in the wanted
    suites, each as (suite label, text). Fails if the release's main Packages are missing."""
    wanted = {codename, codename + "-updates", codename + "-security"}
    packages, translations = [], []
    for t in targets:
        if t.get("Codename") not in wanted or t.get("Component") != COMPONENT:
            continue
        kind = t.get("Created-By")
        if kind == "Packages" and t.get("Architecture") == ARCH:
            dest = packages
        elif kind == "Translations" and t.get("Language") == "en":
            dest = translations
        else:
            continue
        text = read_index(t["Filename"])
        if text is None:
            continue  # listed in sources but not downloaded (an optional index)
        label = t["Codename"] + (" " + t["Version"] if t.get("Version") else "")
        dest.append((label, text))
    if not any(label.split(" ")[0] == codename for label, _ in packages):
        fail("no %s/%s binary-%s Packages among apt's index targets: does the system's "
             "sources.list name a Debian %s mirror?" % (codename, COMPONENT, ARCH, codename))
    return packages, translations


def version_newer(a, b):
    """True if Debian version a > b (dpkg's own comparison)."""
    return subprocess.run(["dpkg", "--compare-versions", a, "gt", b]).returncode == 0


def flatten_description(desc):
    """Short description + long description (deb822 continuation lines) as one line."""
    lines = desc.split("\n")
    parts = [lines[0]]
    for line in lines[1:]:
        line = line[1:] if line.startswith(" ") else line
        parts.append(" " if line.strip() == "." else line)
    return collapse_whitespace(" ".join(parts))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "corpora", "debdesc"),
                    help="output folder (data/corpora/debdesc)")
    ap.add_argument("--apt-dir", default=os.path.join(here, "corpora", ".apt"),
                    help="private apt lists/cache folder (data/corpora/.apt)")
    ap.add_argument("--no-update", action="store_true", help="reuse the lists in --apt-dir")
    ap.add_argument("--codename", default="bookworm", help="Debian release (%(default)s)")
    ap.add_argument("--classes", type=int, default=20, help="largest sections kept (20)")
    args = ap.parse_args()

    conf = apt_setup(args.apt_dir)
    if not args.no_update:
        apt_update(conf)
    packages, translations = pick_targets(index_targets(conf), args.codename)

    long_desc = {}  # Description-md5 -> Description-en
    for _, text in translations:
        for st in parse_deb822(text):
            if "Description-md5" in st and "Description-en" in st:
                long_desc.setdefault(st["Description-md5"], st["Description-en"])

    newest = {}  # package name -> stanza, the highest version over the suites
    n_stanzas = n_replaced = 0
    for _, text in packages:
        for st in parse_deb822(text):
            name = st.get("Package")
            if not name or "Version" not in st:
                continue
            n_stanzas += 1
            old = newest.get(name)
            if old is None:
                newest[name] = st
            elif old["Version"] != st["Version"] and version_newer(st["Version"], old["Version"]):
                newest[name] = st
                n_replaced += 1

    examples, n_no_section, n_no_translation = [], 0, 0
    for name in sorted(newest):
        st = newest[name]
        section = st.get("Section", "").rsplit("/", 1)[-1]
        if not section:
            n_no_section += 1
            continue
        desc = long_desc.get(st.get("Description-md5", ""))
        if desc is None:
            n_no_translation += 1
            desc = st.get("Description", "")
        text = flatten_description(desc)
        if not text:
            continue
        source = st.get("Source", "").split(" ")[0] or name
        examples.append((section, text, source))
    n_packages = len(examples)
    examples, n_dup = drop_duplicated_texts(examples)
    per_section = Counter(label for label, _, _ in examples)
    kept = sorted(per_section, key=lambda c: (-per_section[c], c))[: args.classes]
    kept_set = set(kept)
    examples = [e for e in examples if e[0] in kept_set]
    print("debdesc: %d Packages stanzas in %d files (%s), %d packages after keeping the newest "
          "version (%d replaced by a newer suite); %d without Section, %d without Translation-en "
          "match; %d texts occurring more than once dropped; %d sections, %d largest kept"
          % (n_stanzas, len(packages), ", ".join(c for c, _ in packages), len(newest),
             n_replaced, n_no_section, n_no_translation, n_dup, len(per_section), len(kept)))
    print("debdesc: %d examples before the duplicate filter, %d after it"
          % (n_packages, sum(per_section.values())))
    write_corpus(args.out, examples, "debdesc")


if __name__ == "__main__":
    main()
