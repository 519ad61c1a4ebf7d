"""Regenerate ``data/images.tsv`` (the homework's image sets) from the shared manifest.

Usage::

    python data/make_images_tsv.py [MANIFEST] [OUT]

``MANIFEST`` defaults to ``../shared/data/imagenet/manifest.tsv`` beside the clone
(or ``$HW3_IMAGE_DIR/manifest.tsv``), ``OUT`` to ``data/images.tsv``. The output
depends only on the manifest: running it twice gives the same bytes.

Selection rules (every row kept has ``shared_file`` filled, so each image can be
verified offline against the shared copy):

* ``starfish`` (327): every starfish photo, the documented "first instance" of Part
  II first (:data:`FIRST_STARFISH`: a whole purple sea star on plain sand), then
  manifest order.
* ``sports_cars`` (817) / ``test_sports_cars``: the sports-car photos; the three
  :data:`TEST_SPORTS_CARS` (whole coupes with the roof and windscreen visible) are
  kept out of ``sports_cars``.
* ``convertibles`` (511): every convertible photo.
* ``similar_a`` / ``similar_b``: the 50 ILSVRC2012 validation images of beagle (162)
  and English foxhound (167).
* ``influence:<c>`` / ``heldout:<c>`` for the Part IV classes
  :data:`COMPRESSION_CLASSES` (chain saw first): up to :data:`N_INFLUENCE`
  ImageNet *training* images (VGG16 saw them; they are the distribution of
  interest) and every ILSVRC2012 *validation* image (recall is measured on them),
  each in sha256 order so the several source repositories are mixed.
* ``explainability``: the Grad-CAM/LIME report's ten classes and sports car
  (:data:`EXPLAINABILITY_CLASSES`), the EliSchwartz sample photo of each.

* ``castle`` (483): the one photo TU Berlin ML sheet 11 explains (:data:`CASTLE_PHOTO`).

Rows whose ``note`` flags a problem are left out (a computer render, a watermark, a
label that may be wrong), except the notes in :data:`KEPT_NOTES`.
"""
import csv
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "data", "images.tsv")

STARFISH, SPORTS_CAR, CONVERTIBLE = 327, 817, 511
BEAGLE, ENGLISH_FOXHOUND = 162, 167
# chain saw, golf ball, church, parachute, tench: Imagenette classes that look
# unlike each other (the offline world's classes 5-9 mirror them).
COMPRESSION_CLASSES = (491, 574, 497, 701, 0)
N_INFLUENCE = 20
# TU Berlin ML sheet 11 (LRP on VGG16): the EliSchwartz "castle" (class 483) photo.
CASTLE = 483
CASTLE_PHOTO = "d5e7d5381b58cd3244d23cee97a37cd5184cdc4c4b43ec5148977c0df078a3e6"

# EliSchwartz/imagenet-sample-images n02317335_starfish.JPEG (500x375): one whole
# purple sea star centred on grey sand, nothing else in the frame.
FIRST_STARFISH = "606482422f2c1b61ca84f9a6a82c9728c2d2913ff5f16c84e549dd404a8fc844"
# Three whole coupes whose roof, windscreen and wheels are in the 224 px centre crop:
# a red Nissan 240SX (EliSchwartz), a red Porsche 911 GT3 RS (Flickr, Curt Smith,
# CC-BY) and a red Porsche Cayman at a motor show (Flickr, The Car Spy, CC-BY).
TEST_SPORTS_CARS = ("e3416e6c8adb7ecf295a22a2637183ea01e00cd1ce888ecd3cc8c12d77d65caa",
                    "adc9b3ae76e6ac1901815fce8cf0d8446f96f133df0b07dcbe36018beca97490",
                    "e6f24d099366f1a37d08a3d0c9845fe4c1ba7efe04754166c82e2fbc71b5c16f")
# Notes that do not disqualify an image: a scanned brochure page whose only text is
# a small page number in the bottom-right corner.
KEPT_NOTES = ("text overlay along the bottom edge",)
# The Grad-CAM/LIME report (Saarland, assignment sheet 4): its ten classes in the report's order
# (American coot, West Highland white terrier, racer, orange, vulture, common iguana,
# tiger shark, kite, flamingo, goldfish) and sports car, the EliSchwartz photo of each.
EXPLAINABILITY_CLASSES = (137, 203, 751, 950, 23, 39, 3, 21, 130, 1, 817)
EXPLAINABILITY_REPO = "EliSchwartz/imagenet-sample-images"

COLUMNS = ("role", "class_index", "wnid", "class_name", "url", "sha256", "imagenet_split",
           "license", "author", "original_url", "note", "shared_file")


def default_manifest():
    """The shared manifest: ``$HW3_IMAGE_DIR/manifest.tsv`` if it exists, else
    ``../shared/data/imagenet/manifest.tsv`` beside the clone."""
    env = os.environ.get("HW3_IMAGE_DIR")
    if env and os.path.exists(os.path.join(env, "manifest.tsv")):
        return os.path.join(env, "manifest.tsv")
    return os.path.abspath(os.path.join(ROOT, "..", "shared", "data", "imagenet",
                                        "manifest.tsv"))


def read_manifest(path):
    """Read the manifest (list of dicts, manifest order)."""
    with open(path, encoding="utf8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def usable(row):
    """True for a row kept in some set: its image is in the shared folder and its
    note (if any) flags no problem."""
    return bool(row["shared_file"]) and (not row["note"] or row["note"] in KEPT_NOTES)


def select(rows):
    """The image sets, as a list of (role, manifest row), in output order.

    Args:
        rows: the manifest rows (list of dicts).
    Returns:
        list of (role, row).
    Raises:
        ValueError: a pinned image (first starfish, test sports cars) is missing.
    """
    ok = [r for r in rows if usable(r)]

    def of(c):
        return [r for r in ok if int(r["class_index"]) == c]

    out = []
    star = of(STARFISH)
    first = [r for r in star if r["sha256"] == FIRST_STARFISH]
    if len(first) != 1:
        raise ValueError("the first starfish instance %s is not in the manifest"
                         % FIRST_STARFISH[:16])
    out += [("starfish", r) for r in first + [r for r in star if r is not first[0]]]

    cars = of(SPORTS_CAR)
    test = [r for s in TEST_SPORTS_CARS for r in cars if r["sha256"] == s]
    if len(test) != len(TEST_SPORTS_CARS):
        raise ValueError("test sports cars %s not all in the manifest" % (TEST_SPORTS_CARS,))
    out += [("sports_cars", r) for r in cars if r["sha256"] not in TEST_SPORTS_CARS]
    out += [("convertibles", r) for r in of(CONVERTIBLE)]
    out += [("test_sports_cars", r) for r in test]
    for role, c in (("similar_a", BEAGLE), ("similar_b", ENGLISH_FOXHOUND)):
        out += [(role, r) for r in of(c) if r["imagenet_split"] == "val"]
    for c in COMPRESSION_CLASSES:
        rs = sorted(of(c), key=lambda r: r["sha256"])
        out += [("influence:%d" % c, r) for r in
                [r for r in rs if r["imagenet_split"] == "train"][:N_INFLUENCE]]
        out += [("heldout:%d" % c, r) for r in rs if r["imagenet_split"] == "val"]
    out += [(SAMPLE50_ROLE, r) for r in sample50(ok)]
    castle = [r for r in of(CASTLE) if r["sha256"] == CASTLE_PHOTO]
    if len(castle) != 1:
        raise ValueError("the castle photo %s is not in the manifest" % CASTLE_PHOTO[:16])
    out += [("castle", r) for r in castle]
    for c in EXPLAINABILITY_CLASSES:
        sample = [r for r in of(c) if r["repo"] == EXPLAINABILITY_REPO]
        if len(sample) != 1:
            raise ValueError("class %d has %d usable %s photos in the manifest, expected 1"
                             % (c, len(sample), EXPLAINABILITY_REPO))
        out.append(("explainability", sample[0]))
    return out


# CSEP 590B HW2: its 50-image ImageNet sample (shap's imagenet50) is not
# reachable here; the stand-in is the EliSchwartz photo of every 20th class,
# 10, 30, ..., 990 (50 classes spread over the 1000), in class order.
SAMPLE50_ROLE = "sample50"
SAMPLE50_SOURCE = "EliSchwartz/imagenet-sample-images"
SAMPLE50_CLASSES = tuple(range(10, 1000, 20))


def sample50(rows):
    """The ``sample50`` rows: one photo per class of :data:`SAMPLE50_CLASSES`, from
    :data:`SAMPLE50_SOURCE`, in class order.

    Raises:
        ValueError: a class has no usable photo from that source.
    """
    picked = []
    for c in SAMPLE50_CLASSES:
        rs = [r for r in rows if int(r["class_index"]) == c and r["repo"] == SAMPLE50_SOURCE]
        if len(rs) != 1:
            raise ValueError("sample50: class %d has %d usable %s photos, expected 1"
                             % (c, len(rs), SAMPLE50_SOURCE))
        picked += rs
    return picked


def write(selection, path):
    """Write ``selection`` (list of (role, row)) as a TSV at ``path`` atomically."""
    tmp = path + ".part"
    with open(tmp, "w", encoding="utf8", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(COLUMNS)
        for role, r in selection:
            w.writerow([role] + [r[c] for c in COLUMNS[1:]])
    os.replace(tmp, path)
    return path


def main(argv=None):
    """Command line entry: ``make_images_tsv.py [MANIFEST] [OUT]``."""
    argv = sys.argv[1:] if argv is None else argv
    manifest = argv[0] if argv else default_manifest()
    out = argv[1] if len(argv) > 1 else OUT
    selection = select(read_manifest(manifest))
    write(selection, out)
    counts = {}
    for role, _ in selection:
        counts[role] = counts.get(role, 0) + 1
    for role, n in counts.items():
        print("%-18s %3d" % (role, n))
    return counts


if __name__ == "__main__":
    main()
