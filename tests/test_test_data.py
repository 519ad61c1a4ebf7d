"""test_data.py: the image sets (pinned, verified, cached), decoding, and the worlds.

Nothing here uses the network: images come from the shared folder (HW3_IMAGE_DIR) or
from a local HTTP server serving the shared bytes. Every cache is a tmp folder.
"""
import collections
import csv
import hashlib
import importlib.util
import io
import os

import numpy as np
import pytest
from PIL import Image

import test_data
from photos import fetch
from helpers import SHARED_IMAGENET, free_port_url, http_server

MAKE_SCRIPT = os.path.join(test_data.ROOT, "data", "make_images_tsv.py")
MANIFEST = os.path.join(SHARED_IMAGENET, "manifest.tsv")
needs_shared = pytest.mark.skipif(not os.path.exists(MANIFEST),
                                  reason="needs the shared images (../shared/data/imagenet)")


def _make_module():
    spec = importlib.util.spec_from_file_location("make_images_tsv", MAKE_SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


make = _make_module()


@pytest.fixture(scope="module")
def manifest():
    with open(MANIFEST, encoding="utf8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


@pytest.fixture(scope="module")
def rows():
    return test_data.read_rows()


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _shared_bytes(row):
    with open(os.path.join(SHARED_IMAGENET, row["shared_file"]), "rb") as f:
        return f.read()


# ---------------------------------------------------------------------------
# data/images.tsv against the manifest
# ---------------------------------------------------------------------------
@needs_shared
def test_images_tsv_is_what_the_script_makes(tmp_path, manifest):
    out = tmp_path / "images.tsv"
    make.write(make.select(manifest), str(out))
    with open(test_data.IMAGES_TSV, "rb") as a, open(out, "rb") as b:
        assert a.read() == b.read(), "data/images.tsv is stale: run data/make_images_tsv.py"


@needs_shared
def test_rows_are_copied_from_the_manifest_and_shared(rows, manifest):
    by_sha = {r["sha256"]: r for r in manifest}
    for r in rows:
        m = by_sha[r["sha256"]]
        for col in make.COLUMNS[1:]:
            assert r[col] == m[col], (r["role"], r["sha256"], col)
        assert r["shared_file"], "every set image must be verifiable offline"
        assert not r["note"] or r["note"] in make.KEPT_NOTES, r["note"]
    seen = collections.Counter((r["role"], r["sha256"]) for r in rows)
    assert max(seen.values()) == 1


def _usable(manifest, c, split=None):
    return [r for r in manifest if r["class_index"] == str(c) and r["shared_file"]
            and (not r["note"] or r["note"] in make.KEPT_NOTES)
            and (split is None or r["imagenet_split"] == split)]


@needs_shared
def test_set_counts_follow_the_manifest(rows, manifest):
    counts = collections.Counter(r["role"] for r in rows)
    w = test_data.load_world("imagenet")
    assert counts["starfish"] == len(_usable(manifest, w.classes["starfish"]))
    cars = _usable(manifest, w.classes["sports_car"])
    assert counts["test_sports_cars"] == 3
    assert counts["sports_cars"] + counts["test_sports_cars"] == len(cars)
    assert counts["convertibles"] == len(_usable(manifest, w.classes["convertible"]))
    for k in ("similar_a", "similar_b"):
        assert counts[k] == len(_usable(manifest, w.classes[k], "val")) > 0
    for c in w.compression_classes:
        assert counts["influence:%d" % c] == min(make.N_INFLUENCE,
                                                 len(_usable(manifest, c, "train"))) > 0
        assert counts["heldout:%d" % c] == len(_usable(manifest, c, "val")) > 0
    # flagged photographs (render, watermark, doubtful label) are in no set
    flagged = {r["sha256"] for r in manifest if r["note"] and r["note"] not in make.KEPT_NOTES}
    assert flagged and not flagged & {r["sha256"] for r in rows}


# ---------------------------------------------------------------------------
# Every set resolves offline from HW3_IMAGE_DIR
# ---------------------------------------------------------------------------
@needs_shared
def test_every_imagenet_set_loads_from_the_shared_folder(tmp_path, rows):
    cache = tmp_path / "cache"
    w = test_data.load_world("imagenet", cache=str(cache), image_dir=SHARED_IMAGENET)
    loaded = {}
    for role in list(test_data.SET_ROLES) + list(test_data.EXTRA_SETS):
        loaded[role] = w.image_set(role)
    for kind in test_data.COMPRESSION_KINDS:
        for c in w.compression_classes:
            loaded["%s:%d" % (kind, c)] = w.compression_set(kind, c)
    loaded[test_data.SAMPLE50_ROLE] = test_data.sample50(w)       # CSEP 590B HW2
    assert set(loaded) == set(test_data.roles())
    for role, s in loaded.items():
        expected = [r for r in rows if r["role"] == role]
        assert len(s) == len(expected) > 0
        assert s.images.dtype == np.uint8 and s.images.shape[1:] == (224, 224, 3)
        assert s.ids == [r["sha256"] for r in expected]
        assert s.labels.dtype == np.int64
        assert list(s.labels) == [int(r["class_index"]) for r in expected]
        assert s.class_names == [w.class_names[c] for c in s.labels]
        assert s.masks is None
        assert s.images.std() > 10            # decoded photographs, not blank arrays
    for role, key in (("starfish", "starfish"), ("sports_cars", "sports_car"),
                      ("convertibles", "convertible"), ("test_sports_cars", "sports_car"),
                      ("similar_a", "similar_a"), ("similar_b", "similar_b")):
        assert set(loaded[role].labels) == {w.classes[key]}
    assert w.compression_classes[0] == 491 and w.class_names[491] == "chain_saw"
    assert list(loaded["castle"].labels) == [w.classes["castle"]] == [483]
    assert w.class_names[483] == "castle"
    # the shared files were read in place, never copied into the cache
    assert not cache.exists() or os.listdir(cache) == []


@needs_shared
def test_fetch_returns_shared_files_that_match_their_hash(tmp_path, rows):
    for r in rows:
        path = test_data.fetch(r, cache=str(tmp_path), image_dir=SHARED_IMAGENET)
        assert os.path.commonpath([path, SHARED_IMAGENET]) == SHARED_IMAGENET
        with open(path, "rb") as f:
            assert _sha(f.read()) == r["sha256"]
    assert os.listdir(tmp_path) == []


@needs_shared
def test_first_starfish_is_the_documented_instance(tmp_path, rows):
    first = test_data.load_set("starfish", limit=1, cache=str(tmp_path),
                               image_dir=SHARED_IMAGENET)
    assert len(first) == 1 and first.ids == [make.FIRST_STARFISH]
    row = [r for r in rows if r["sha256"] == make.FIRST_STARFISH][0]
    assert row["url"].endswith("/n02317335_starfish.JPEG")
    expected = test_data.load_image(os.path.join(SHARED_IMAGENET, row["shared_file"]))
    np.testing.assert_array_equal(first.images[0], expected)
    full = test_data.load_set("starfish", cache=str(tmp_path), image_dir=SHARED_IMAGENET,
                              progress=False)
    np.testing.assert_array_equal(full.images[:1], first.images)
    sub = full.subset(3)
    assert sub.ids == full.ids[:3] and sub.images.shape == (3, 224, 224, 3)
    assert full.subset([2, 0]).ids == [full.ids[2], full.ids[0]]


def test_test_sports_cars_are_kept_out_of_sports_cars(rows):
    cars = {r["sha256"] for r in rows if r["role"] == "sports_cars"}
    test = [r["sha256"] for r in rows if r["role"] == "test_sports_cars"]
    assert len(test) == len(set(test)) == 3
    assert cars and not cars & set(test)
    assert set(test) == set(make.TEST_SPORTS_CARS)


def test_influence_and_heldout_are_disjoint_and_split(rows):
    w = test_data.load_world("imagenet")
    for c in w.compression_classes:
        inf = [r for r in rows if r["role"] == "influence:%d" % c]
        held = [r for r in rows if r["role"] == "heldout:%d" % c]
        assert inf and held
        assert {r["imagenet_split"] for r in inf} == {"train"}
        assert {r["imagenet_split"] for r in held} == {"val"}
        assert not {r["sha256"] for r in inf} & {r["sha256"] for r in held}
        assert {int(r["class_index"]) for r in inf + held} == {c}
    for role in ("similar_a", "similar_b"):
        assert {r["imagenet_split"] for r in rows if r["role"] == role} == {"val"}


def test_credits_name_author_licence_and_source(rows):
    cc = [r for r in rows if r["license"]]
    assert cc, "the CC-BY photographs need attribution"
    for r in rows:
        text = test_data.credit(r)
        if r["license"]:
            assert text == "Photo by %s, CC-BY 2.0, %s" % (r["author"], r["original_url"])
        else:
            assert text == ""
    sets = [test_data.images_from_rows([r], role=r["role"], image_dir=SHARED_IMAGENET,
                                       progress=False) for r in cc[:2]]
    md = test_data.load_world("imagenet").credits_markdown(sets)
    for r in cc[:2]:
        assert md.count(r["original_url"]) == 1 and r["author"] in md
    assert "creativecommons.org/licenses/by/2.0" in md


# ---------------------------------------------------------------------------
# Downloads from a local HTTP server
# ---------------------------------------------------------------------------
@pytest.fixture
def served(rows):
    """The three test sports cars (JPEG and PNG), with their shared bytes."""
    picked = [dict(r) for r in rows if r["role"] == "test_sports_cars"]
    return picked, {r["sha256"]: _shared_bytes(r) for r in picked}


def _routes(picked, data):
    return {"/img/%s%s" % (r["sha256"], fetch.extension(r)): data[r["sha256"]]
            for r in picked}


def _point_at(picked, base):
    return [dict(r, url="%s/img/%s%s" % (base, r["sha256"], fetch.extension(r)))
            for r in picked]


@needs_shared
def test_download_fills_the_cache_with_verified_files(tmp_path, served):
    picked, data = served
    cache = tmp_path / "cache"
    with http_server(_routes(picked, data)) as base:
        s = test_data.images_from_rows(_point_at(picked, base), role="test_sports_cars",
                                       cache=str(cache), image_dir="")
    names = sorted(os.listdir(cache))
    assert names == sorted(r["sha256"] + fetch.extension(r) for r in picked)
    for name in names:
        assert _sha((cache / name).read_bytes()) == name.split(".")[0]
    offline = test_data.load_set("test_sports_cars", cache=str(tmp_path / "other"),
                                 image_dir=SHARED_IMAGENET, progress=False)
    np.testing.assert_array_equal(s.images, offline.images)
    # a second run is served from the cache: the server is gone
    again = test_data.images_from_rows(_point_at(picked, free_port_url()),
                                       cache=str(cache), image_dir="", progress=False)
    np.testing.assert_array_equal(again.images, s.images)


def _expect_fetch_error(picked, cache, *words):
    with pytest.raises(test_data.ImageFetchError) as e:
        test_data.images_from_rows(picked, cache=str(cache), image_dir="", progress=False,
                                   timeout=10)
    msg = str(e.value)
    r = picked[0]
    for w in (r["sha256"][:16], r["class_name"], r["url"], "HW3_IMAGE_DIR") + words:
        assert w in msg, (w, msg)
    assert not cache.exists() or os.listdir(cache) == [], "partial file left in the cache"
    return msg


@needs_shared
def test_wrong_bytes_are_rejected(tmp_path, served):
    picked, data = served
    swapped = {k: data[picked[1]["sha256"]] for k in data}   # everyone serves car 2
    with http_server(_routes(picked, swapped)) as base:
        _expect_fetch_error(_point_at(picked, base), tmp_path / "cache", "mismatch")


@needs_shared
def test_truncated_download_leaves_nothing(tmp_path, served):
    picked, data = served
    routes = _routes(picked, data)
    truncate = {p: len(b) // 2 for p, b in routes.items()}
    with http_server(routes, truncate=truncate) as base:
        _expect_fetch_error(_point_at(picked, base), tmp_path / "cache")


@needs_shared
def test_missing_file_404(tmp_path, served):
    picked, _ = served
    with http_server({}) as base:
        _expect_fetch_error(_point_at(picked, base), tmp_path / "cache", "404")


@needs_shared
def test_server_down(tmp_path, served):
    picked, _ = served
    _expect_fetch_error(_point_at(picked, free_port_url()), tmp_path / "cache")


@needs_shared
def test_corrupt_cache_file_is_reported(tmp_path, served):
    picked, _ = served
    cache = tmp_path / "cache"
    cache.mkdir()
    bad = cache / (picked[0]["sha256"] + fetch.extension(picked[0]))
    bad.write_bytes(b"not the image")
    with pytest.raises(test_data.ImageFetchError) as e:
        test_data.fetch(picked[0], cache=str(cache), image_dir="")
    assert str(bad) in str(e.value) and "Delete it" in str(e.value)
    assert picked[0]["url"] in str(e.value)


# ---------------------------------------------------------------------------
# HW3_IMAGE_DIR as a folder of sha256-named files
# ---------------------------------------------------------------------------
@needs_shared
def test_image_dir_of_sha256_named_files(tmp_path, served, monkeypatch):
    picked, data = served
    folder = tmp_path / "mine"
    folder.mkdir()
    for r in picked:
        (folder / (r["sha256"] + ".bin")).write_bytes(data[r["sha256"]])
    monkeypatch.setenv("HW3_IMAGE_DIR", str(folder))
    monkeypatch.setenv("HW3_CACHE_DIR", str(tmp_path / "cache"))
    offline = [dict(r, url=free_port_url() + "/x") for r in picked]
    s = test_data.images_from_rows(offline, progress=False)
    assert s.ids == [r["sha256"] for r in picked] and s.images.shape == (3, 224, 224, 3)
    assert not (tmp_path / "cache").exists()
    # a file with the wrong content is reported, not silently downloaded over
    (folder / (picked[0]["sha256"] + ".bin")).write_bytes(data[picked[1]["sha256"]])
    with pytest.raises(test_data.ImageFetchError) as e:
        test_data.images_from_rows(offline, progress=False)
    assert str(folder) in str(e.value) and picked[0]["sha256"] in str(e.value)


def test_undecodable_file_with_the_right_hash(tmp_path):
    body = b"this is not an image"
    row = {"role": "starfish", "class_index": "327", "class_name": "starfish",
           "url": "http://example.invalid/x.jpg", "sha256": _sha(body)}
    (tmp_path / (row["sha256"] + ".jpg")).write_bytes(body)
    with pytest.raises(test_data.ImageFetchError) as e:
        test_data.images_from_rows([row], cache=str(tmp_path / "c"), image_dir=str(tmp_path),
                                   progress=False)
    assert "cannot be decoded" in str(e.value) and row["sha256"][:16] in str(e.value)
    assert row["url"] in str(e.value)


# ---------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------
def _encode(im, fmt, **kw):
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def test_decode_greyscale_and_16_bit():
    rgb = test_data.decode_image(_encode(Image.new("L", (8, 6), 100), "PNG"))
    assert rgb.shape == (6, 8, 3) and rgb.dtype == np.uint8 and (rgb == 100).all()
    deep = Image.fromarray(np.array([[65535, 128 * 257], [0, 255 * 257]], np.uint16))
    got = test_data.decode_image(_encode(deep, "PNG"))
    assert got.shape == (2, 2, 3)
    np.testing.assert_array_equal(got[..., 1], [[255, 128], [0, 255]])


def test_decode_cmyk():
    rgb = test_data.decode_image(_encode(Image.new("CMYK", (5, 5), (0, 255, 255, 0)), "TIFF"))
    assert rgb.shape == (5, 5, 3)
    assert tuple(rgb[2, 2]) == (255, 0, 0)


def test_decode_transparency_is_composited_on_white():
    a = np.zeros((4, 4, 4), np.uint8)
    a[:2] = (0, 0, 255, 255)      # opaque blue on top
    a[2:] = (255, 0, 0, 0)        # transparent red below: white
    a[3, 3] = (0, 0, 0, 128)      # half-transparent black: mid grey
    rgb = test_data.decode_image(_encode(Image.fromarray(a, "RGBA"), "PNG"))
    assert tuple(rgb[0, 0]) == (0, 0, 255)
    assert tuple(rgb[2, 0]) == (255, 255, 255)
    assert all(120 <= v <= 135 for v in rgb[3, 3])
    la = Image.fromarray(np.dstack([np.full((3, 3), 40, np.uint8),
                                    np.array([[255] * 3, [0] * 3, [255] * 3], np.uint8)]), "LA")
    rgb = test_data.decode_image(_encode(la, "PNG"))
    assert tuple(rgb[0, 0]) == (40, 40, 40) and tuple(rgb[1, 0]) == (255, 255, 255)


def test_decode_palette():
    p = Image.new("P", (4, 4), 1)
    p.putpalette([0, 0, 0, 10, 200, 30] + [0] * (254 * 3))
    p.putpixel((0, 0), 0)
    rgb = test_data.decode_image(_encode(p, "PNG"))
    assert tuple(rgb[1, 1]) == (10, 200, 30) and tuple(rgb[0, 0]) == (0, 0, 0)
    rgb = test_data.decode_image(_encode(p, "PNG", transparency=0))   # index 0 transparent
    assert tuple(rgb[0, 0]) == (255, 255, 255) and tuple(rgb[1, 1]) == (10, 200, 30)
    gif = test_data.decode_image(_encode(p, "GIF"))
    assert tuple(gif[1, 1]) == (10, 200, 30)


def test_decode_applies_exif_orientation():
    a = np.zeros((20, 40, 3), np.uint8)     # stored: red left half, blue right half
    a[:, :20] = (255, 0, 0)
    a[:, 20:] = (0, 0, 255)
    im = Image.fromarray(a)
    exif = im.getexif()
    exif[0x0112] = 6                        # display rotated 90 degrees clockwise
    rgb = test_data.decode_image(_encode(im, "JPEG", quality=95, exif=exif.tobytes()))
    assert rgb.shape == (40, 20, 3)         # portrait once rotated
    top, bottom = rgb[5, 10].astype(int), rgb[35, 10].astype(int)
    assert top[0] > 200 and top[2] < 60      # the left (red) half is now on top
    assert bottom[2] > 200 and bottom[0] < 60


def test_load_image_resizes_and_crops(tmp_path):
    path = tmp_path / "wide.png"
    a = np.zeros((100, 300, 3), np.uint8)
    a[:, 100:200] = 255                      # white centre third
    Image.fromarray(a).save(path)
    out = test_data.load_image(str(path), size=64)
    assert out.shape == (64, 64, 3) and out[32, 32].min() == 255


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------
def test_unknown_world():
    with pytest.raises(ValueError) as e:
        test_data.load_world("mars")
    assert "mars" in str(e.value) and "imagenet" in str(e.value) and "synthetic" in str(e.value)
    with pytest.raises(ValueError):
        test_data.load_set("starfish", world="mars")


def test_unknown_roles_and_arguments():
    w = test_data.load_world("imagenet")
    with pytest.raises(ValueError) as e:
        w.image_set("jellyfish")
    assert "jellyfish" in str(e.value) and "starfish" in str(e.value)
    with pytest.raises(ValueError) as e:
        test_data.load_set("influence:1")
    assert "influence:491" in str(e.value)
    with pytest.raises(ValueError):
        w.compression_set("training", 491)
    with pytest.raises(ValueError) as e:
        w.compression_set("influence", 327)
    assert "491" in str(e.value)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError):
            w.image_set("starfish", limit=bad)
    with pytest.raises(ValueError):
        test_data.set_rows("nothing")


def test_image_set_checks_its_fields():
    with pytest.raises(ValueError):
        test_data.ImageSet("x", np.zeros((2, 4, 4, 3), np.uint8), [1], ["a"], ["i"], [""])
    with pytest.raises(ValueError):
        test_data.ImageSet("x", np.zeros((1, 4, 4, 3), np.float32), [1], ["a"], ["i"], [""])


# ---------------------------------------------------------------------------
# The synthetic world (synthetic_world)
# ---------------------------------------------------------------------------
def test_synthetic_world():
    from synthetic_world import scenes as synthetic
    w = test_data.load_world("synthetic")
    assert w.name == "synthetic" and w.image_size == synthetic.IMAGE_SIZE
    assert w.class_names == list(synthetic.CLASS_NAMES)
    assert {k: v for k, v in w.classes.items()
            if k not in test_data.EXTRA_SETS} == dict(synthetic.ROLE_CLASSES)
    assert w.compression_classes == list(synthetic.COMPRESSION_CLASSES)
    expected = {"starfish": ("starfish", test_data.SYNTHETIC_SET_SIZE),
                "sports_cars": ("sports_car", test_data.SYNTHETIC_SET_SIZE),
                "convertibles": ("convertible", test_data.SYNTHETIC_SET_SIZE),
                "test_sports_cars": ("sports_car", test_data.SYNTHETIC_TEST_CARS),
                "similar_a": ("similar_a", test_data.SYNTHETIC_SET_SIZE),
                "similar_b": ("similar_b", test_data.SYNTHETIC_SET_SIZE)}
    for role, (key, n) in expected.items():
        s = w.image_set(role)
        S = w.image_size
        assert len(s) == n and s.images.shape == (n, S, S, 3) and s.images.dtype == np.uint8
        assert set(s.labels) == {w.classes[key]}
        assert s.masks and all(m.dtype == bool and m.shape == (n, S, S)
                               for m in s.masks.values())
        assert len(set(s.ids)) == n and s.credits == [""] * n
    c = w.compression_classes[0]
    held = w.compression_set("heldout", c)
    inf = w.compression_set("influence", c)
    assert len(held) == test_data.SYNTHETIC_HELDOUT and set(held.labels) == {c}
    assert len(inf) == test_data.SYNTHETIC_INFLUENCE and set(inf.labels) == {c}
    assert not {im.tobytes() for im in inf.images} & {im.tobytes() for im in held.images}
    first = w.image_set("starfish", limit=2)
    np.testing.assert_array_equal(first.images, w.image_set("starfish").images[:2])
    x = w.preprocess(first.images)
    assert x.shape == (2, 3, w.image_size, w.image_size)
    np.testing.assert_array_equal(w.deprocess(x), first.images)
    small = test_data.load_set("starfish", world="synthetic", limit=2, size=32)
    assert small.images.shape == (2, 32, 32, 3)
    assert all(m.shape == (2, 32, 32) for m in small.masks.values())
    assert "synthetic" in w.credits_markdown([s])


def test_extra_sets_exist_in_both_worlds():
    """The neighbouring assignments' single-photo sets: the castle of sheet 11 is a
    church scene offline."""
    w = test_data.load_world("synthetic")
    s = w.image_set("castle")
    assert len(s) == test_data.SYNTHETIC_EXTRA and w.class_names[s.labels[0]] == "church"
    assert w.classes["castle"] == s.labels[0]
    assert "castle" in test_data.roles()
