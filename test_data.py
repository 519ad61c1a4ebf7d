"""The homework's image sets, and the switch between the two worlds the notebook runs in.

* The **ImageNet world** explains the course's VGG16 on real photographs. The sets are
  listed in ``data/images.tsv`` (made from the shared manifest by
  ``data/make_images_tsv.py``): each image is pinned by the URL of a raw file at a
  fixed commit and by its sha256. An image is taken from, in order,

  1. the cache ``data/cache/<sha256>.<ext>`` (git-ignored; ``HW3_CACHE_DIR`` moves it),
  2. ``HW3_IMAGE_DIR`` if set: a folder of files named by sha256 (any extension), or
     a folder laid out like the shared ``data/imagenet`` (``images/<wnid>/...``, the
     row's ``shared_file``); such files are read where they are, never copied,
  3. its URL, downloaded atomically into the cache.

  The sha256 is checked in every case. Anything that goes wrong raises
  :class:`ImageFetchError`, which names the image, its URL and how to fix it; no
  partial file is ever left in the cache (the fetching is :mod:`photos.fetch`).
* The **synthetic world** runs offline: a small surrogate model
  (``synthetic_world.surrogate``) trained on generated images with ground-truth part
  masks (``synthetic_world.scenes``). It is imported only when that world is used.

Set roles (both worlds): ``starfish`` (Part II; the first image is "the first
instance"), ``sports_cars``, ``convertibles``, ``test_sports_cars`` (Part III),
``similar_a``, ``similar_b`` (Part III extra credit: two similar classes), and for
Part IV ``influence:<class>`` / ``heldout:<class>`` for each of the world's five
``compression_classes`` (chain saw first).

Example::

    world = test_data.load_world("imagenet")        # or "synthetic"
    model = world.model()
    stars = world.image_set("starfish")
    x = world.preprocess(stars.images)
"""
import csv
import dataclasses
import os
import re

import hw3_env  # noqa: F401  (must come before keras)

import numpy as np

import models
from photos.decode import decode_image, load_image  # noqa: F401  (test_data's names)
from photos.fetch import (DEFAULT_CACHE_DIR, FIX_HINT, ImageFetchError,  # noqa: F401
                          cache_dir, cache_path, describe, fetch, local_candidates,
                          sha256_of)

ROOT = hw3_env.ROOT
IMAGES_TSV = os.path.join(ROOT, "data", "images.tsv")

WORLDS = ("imagenet", "synthetic")
SET_ROLES = ("starfish", "sports_cars", "convertibles", "test_sports_cars",
             "similar_a", "similar_b")
COMPRESSION_KINDS = ("influence", "heldout")
# notebooks/explainability_report: the Grad-CAM/LIME report's ten classes and
# sports car, one photograph each; in the synthetic world one held-out scene per class.
EXPLAINABILITY_ROLE = "explainability"
SET_ROLES = SET_ROLES + (EXPLAINABILITY_ROLE,)

# The ImageNet world: class indices of VGG16's output.
IMAGENET_CLASSES = {"starfish": 327, "sports_car": 817, "convertible": 511,
                    "similar_a": 162, "similar_b": 167}   # beagle, English foxhound
IMAGENET_COMPRESSION_CLASSES = [491, 574, 497, 701, 0]    # chain saw, golf ball, church,
#                                                           parachute, tench
IMAGENET_IMAGE_SIZE = 224

# Single-photo sets of the neighbouring assignments: role -> (ImageNet class, the
# synthetic world's class name). TU Berlin ML sheet 11 explains VGG16's "castle" on one
# photo (pinned in data/images.tsv); offline, a church scene stands in for it.
EXTRA_SETS = {"castle": (483, "church")}
SYNTHETIC_EXTRA = 1              # images of an extra set in the synthetic world

# The synthetic world: images generated per set (synthetic.generate).
SYNTHETIC_SET_SIZE = 20          # starfish, sports_cars, convertibles, similar_a/b
SYNTHETIC_TEST_CARS = 3          # test_sports_cars
SYNTHETIC_INFLUENCE = 20         # influence:<class>
SYNTHETIC_HELDOUT = 40           # heldout:<class>
SYNTHETIC_SEED = 0

LICENSES = {"https://creativecommons.org/licenses/by/2.0/": "CC-BY 2.0"}


# ---------------------------------------------------------------------------
# Image sets
# ---------------------------------------------------------------------------
@dataclasses.dataclass
class ImageSet:
    """A set of images with their labels.

    Attributes:
        role: the set's role, e.g. ``'starfish'`` or ``'heldout:491'``.
        images: uint8 (N, S, S, 3) RGB images, already resized and centre-cropped to
            the world's image size S.
        labels: int64 (N,) class indices of the world's model.
        class_names: the N images' class names.
        ids: N identifiers: the sha256 of a photograph, or ``synthetic:...``.
        credits: N attribution strings ("Photo by <author>, CC-BY 2.0, <url>") for
            CC-BY photographs, '' for the others.
        masks: ground-truth part masks (synthetic world): dict part -> bool
            (N, S, S); None for photographs.
        urls: N source URLs ('' for synthetic images).
    """
    role: str
    images: np.ndarray
    labels: np.ndarray
    class_names: list
    ids: list
    credits: list
    masks: dict = None
    urls: list = None

    def __post_init__(self):
        self.images = np.asarray(self.images)
        self.labels = np.asarray(self.labels, dtype=np.int64)
        n = len(self.images)
        if self.images.dtype != np.uint8 or self.images.ndim != 4 or self.images.shape[3] != 3:
            raise ValueError("ImageSet %r: images must be uint8 (N, S, S, 3), got %s %r"
                             % (self.role, self.images.dtype, self.images.shape))
        if self.urls is None:
            self.urls = [""] * n
        for name in ("labels", "class_names", "ids", "credits", "urls"):
            if len(getattr(self, name)) != n:
                raise ValueError("ImageSet %r: %d images but %d %s"
                                 % (self.role, n, len(getattr(self, name)), name))
        for part, m in (self.masks or {}).items():
            if np.shape(m) != self.images.shape[:3]:
                raise ValueError("ImageSet %r: mask %r has shape %r, images %r"
                                 % (self.role, part, np.shape(m), self.images.shape))

    def __len__(self):
        return len(self.images)

    def subset(self, n):
        """The first ``n`` images (all of them when ``n`` >= len), or the images at
        the indices ``n`` when it is a sequence.

        Args:
            n: int >= 0, or a sequence of indices.
        Returns:
            a new :class:`ImageSet` with the same role.
        """
        if isinstance(n, (int, np.integer)):
            if n < 0:
                raise ValueError("subset(n) needs n >= 0, got %d" % n)
            idx = np.arange(min(int(n), len(self)))
        else:
            idx = np.asarray(n, dtype=np.int64).reshape(-1)
        pick = lambda xs: [xs[i] for i in idx]  # noqa: E731
        return ImageSet(role=self.role, images=self.images[idx], labels=self.labels[idx],
                        class_names=pick(self.class_names), ids=pick(self.ids),
                        credits=pick(self.credits),
                        masks=None if self.masks is None
                        else {k: np.asarray(m)[idx] for k, m in self.masks.items()},
                        urls=pick(self.urls))


# ---------------------------------------------------------------------------
# data/images.tsv
# ---------------------------------------------------------------------------
def read_rows(path=IMAGES_TSV):
    """All rows of ``data/images.tsv`` (list of dicts, file order)."""
    with open(path, encoding="utf8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def roles(path=IMAGES_TSV):
    """The roles listed in ``data/images.tsv``, in file order."""
    seen = []
    for r in read_rows(path):
        if r["role"] not in seen:
            seen.append(r["role"])
    return seen


def set_rows(role, path=IMAGES_TSV):
    """The rows of one set of the ImageNet world.

    Args:
        role: e.g. ``'starfish'`` or ``'influence:491'``.
    Returns:
        list of dicts (columns of ``data/images.tsv``).
    Raises:
        ValueError: unknown role (the message lists the known ones).
    """
    rows = [r for r in read_rows(path) if r["role"] == role]
    if not rows:
        raise ValueError("unknown image set %r; the ImageNet world has: %s"
                         % (role, ", ".join(roles(path))))
    return rows


def images_from_rows(rows, role=None, size=IMAGENET_IMAGE_SIZE, cache=None, image_dir=None,
                     progress=True, timeout=60):
    """Fetch, verify, decode and crop the images of ``rows`` into an :class:`ImageSet`.

    Args:
        rows: dicts with ``url``, ``sha256``, ``class_index``, ``class_name`` and
            optionally ``license``, ``author``, ``original_url``, ``role``.
        role: the set's role (default: the first row's ``role``).
        size: output image size S.
        cache, image_dir, timeout: see :func:`fetch`.
        progress: show progress over the set (:mod:`notebook_tools.progress`).
    Returns:
        an :class:`ImageSet` (masks None).
    Raises:
        ImageFetchError: an image cannot be fetched, verified or decoded.
    """
    from notebook_tools.progress import progress as _progress
    rows = list(rows)
    role = role or (rows[0].get("role") if rows else "images")
    images = []
    for row in _progress(rows, desc="loading %s" % role, unit="image", disable=not progress):
        path = fetch(row, cache=cache, image_dir=image_dir, timeout=timeout)
        try:
            images.append(load_image(path, size))
        except Exception as e:  # PIL raises OSError, ValueError, SyntaxError...
            raise ImageFetchError(
                "%s: %s has the right sha256 but cannot be decoded as an image (%s: %s); "
                "url %s. The pinned file itself is broken: report it, or drop the row from "
                "data/images.tsv." % (describe(row), path, type(e).__name__, e,
                                      row.get("url", ""))) from e
    images = (np.stack(images) if images
              else np.zeros((0, size, size, 3), dtype=np.uint8))
    return ImageSet(role=role, images=images,
                    labels=np.array([int(r["class_index"]) for r in rows], dtype=np.int64),
                    class_names=[r["class_name"] for r in rows],
                    ids=[r["sha256"].lower() for r in rows],
                    credits=[credit(r) for r in rows],
                    masks=None, urls=[r.get("url", "") for r in rows])


def credit(row):
    """Attribution text for a CC-BY photograph ('' when the row has no license).

    Returns:
        e.g. ``"Photo by Curt Smith, CC-BY 2.0, https://www.flickr.com/photos/..."``.
    """
    lic = (row.get("license") or "").strip()
    if not lic:
        return ""
    return "Photo by %s, %s, %s" % (row.get("author") or "unknown author",
                                    LICENSES.get(lic, lic), row.get("original_url") or row["url"])


def _check_limit(limit):
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
        raise ValueError("limit must be None or a positive int, got %r" % (limit,))
    return int(limit)


def load_set(role, world="imagenet", limit=None, size=None, cache=None, image_dir=None,
             progress=True):
    """Load one image set of a world.

    Args:
        role: 'starfish', 'sports_cars', 'convertibles', 'test_sports_cars',
            'similar_a', 'similar_b', or 'influence:<class>' / 'heldout:<class>' for
            one of the world's compression classes.
        world: 'imagenet', 'synthetic', or a :class:`World`.
        limit: keep only the first ``limit`` images (None: all).
        size: image size S (default: the world's, 224 or 64).
        cache, image_dir: ImageNet world only, see :func:`fetch`.
        progress: show progress.
    Returns:
        an :class:`ImageSet`.
    Raises:
        ValueError: unknown world or role; ImageFetchError: see :func:`fetch`.
    """
    w = world if isinstance(world, World) else load_world(world, cache=cache,
                                                           image_dir=image_dir)
    return w.load(role, limit=limit, size=size, progress=progress)


# ---------------------------------------------------------------------------
# Worlds
# ---------------------------------------------------------------------------
def parse_role(role, compression_classes):
    """Split a role into ('set', role, None) or ('influence'|'heldout', role, class).

    Raises:
        ValueError: unknown role (the message lists the valid ones).
    """
    if role in SET_ROLES or role in EXTRA_SETS:
        return "set", role, None
    m = re.fullmatch(r"(influence|heldout):(\d+)", str(role))
    if m and int(m.group(2)) in compression_classes:
        return m.group(1), role, int(m.group(2))
    valid = list(SET_ROLES) + list(EXTRA_SETS) + ["%s:%d" % (k, c) for k in COMPRESSION_KINDS
                               for c in compression_classes]
    raise ValueError("unknown image set %r; choose one of: %s" % (role, ", ".join(valid)))


class World:
    """What the notebook needs from a world: its model, class names, preprocessing and
    image sets. Use :func:`load_world` to get one.

    Attributes:
        name: 'imagenet' or 'synthetic'.
        image_size: the model's input size (224 or 64).
        class_names: list of class names, index = model output.
        classes: dict 'starfish', 'sports_car', 'convertible', 'similar_a',
            'similar_b' -> class index.
        compression_classes: the five Part IV class indices, chain saw first.
    """
    name = None
    image_size = None
    classes = {}
    compression_classes = []

    @property
    def class_names(self):
        raise NotImplementedError

    def model(self):
        """Build (or load) the world's Keras model (channels first, linear scores).
        ``model.class_names`` holds the class names, so explanations and progress
        name classes (``influence on chain saw``, not ``class 491``)."""
        model = self._build_model()
        model.class_names = list(self.class_names)
        return model

    def _build_model(self):
        raise NotImplementedError

    def preprocess(self, images):
        """RGB uint8 images -> float32 (N, 3, S, S) model input (:func:`models.preprocess`)."""
        return models.preprocess(images, size=self.image_size)

    def deprocess(self, x):
        """Model input -> RGB uint8 images (:func:`models.deprocess`)."""
        return models.deprocess(x)

    def load(self, role, limit=None, size=None, progress=True):
        """Load the set ``role`` (any role :func:`parse_role` accepts).

        Args:
            role: set role, e.g. 'starfish' or 'heldout:491'.
            limit: keep the first ``limit`` images (None: all).
            size: image size (default ``image_size``).
            progress: show progress.
        Returns:
            an :class:`ImageSet`.
        """
        raise NotImplementedError

    def image_set(self, role, limit=None):
        """One of the sets 'starfish', 'sports_cars', 'convertibles',
        'test_sports_cars', 'similar_a', 'similar_b' (see :meth:`load`)."""
        if role not in SET_ROLES and role not in EXTRA_SETS:
            raise ValueError("unknown image set %r; choose one of: %s (Part IV sets come "
                             "from compression_set)"
                             % (role, ", ".join(list(SET_ROLES) + list(EXTRA_SETS))))
        return self.load(role, limit=limit)

    def compression_set(self, kind, class_index, limit=None):
        """A Part IV set: ``kind`` 'influence' (the distribution of interest for the
        influence measure, ImageNet training images) or 'heldout' (recall is measured
        on it: ILSVRC2012 validation images) of one of ``compression_classes``.

        Returns:
            an :class:`ImageSet` with role '<kind>:<class_index>'.
        """
        if kind not in COMPRESSION_KINDS:
            raise ValueError("unknown compression set kind %r; choose 'influence' or "
                             "'heldout'" % (kind,))
        if int(class_index) not in self.compression_classes:
            raise ValueError("class %r is not a compression class of the %s world; choose "
                             "one of %s" % (class_index, self.name, self.compression_classes))
        return self.load("%s:%d" % (kind, int(class_index)), limit=limit)

    def credits_markdown(self, sets):
        """Markdown attribution for the CC-BY photographs among ``sets``.

        Args:
            sets: an :class:`ImageSet` or an iterable of them.
        Returns:
            a Markdown string (one bullet per photograph, in order of appearance).
        """
        if isinstance(sets, ImageSet):
            sets = [sets]
        seen = []
        for s in sets:
            for c in s.credits:
                if c and c not in seen:
                    seen.append(c)
        if self.name == "synthetic":
            return ("**Image credits.** All images are generated by `synthetic_world/scenes.py`; "
                    "no attribution is needed.")
        text = ["**Image credits.**"]
        if seen:
            text[0] += (" These photographs are Flickr photographs from the NIPS 2017 "
                        "adversarial-competition dev set, under the Creative Commons "
                        "Attribution 2.0 licence "
                        "(https://creativecommons.org/licenses/by/2.0/):")
            text += ["- " + c for c in seen]
            text.append("")
            text.append("The other photographs are ImageNet images, used under ImageNet's "
                        "research and educational terms and fetched at run time from the "
                        "pinned URLs in `data/images.tsv`.")
        else:
            text[0] += (" The photographs are ImageNet images, used under ImageNet's "
                        "research and educational terms and fetched at run time from the "
                        "pinned URLs in `data/images.tsv`.")
        return "\n".join(text)

    def banner(self, steps=None, notebook="hw3_explain.ipynb", **settings):
        """Markdown banner saying which world produced a notebook's outputs.

        Args:
            steps: the path integrals' Riemann steps, or None.
            notebook: the notebook's path (names the command that regenerates it).
            **settings: other settings to list (name=value).
        """
        if notebook == "hw3_explain.ipynb":
            online, offline = "make notebook", "make notebook-offline"
        else:
            online = "make run NB=%s WORLD=imagenet" % notebook
            offline = "make run NB=%s" % notebook
        if self.name == "synthetic":
            head = "These outputs were produced in the synthetic world."
            body = ("Generated 64x64 scenes with ground-truth part masks, explained on a small "
                    "model of the VGG16 layout trained on them (`models/surrogate.h5`). They "
                    "are not VGG16's explanations: to regenerate every output with VGG16 and "
                    "real photographs, run `%s` (it downloads the 528 MB ImageNet "
                    "weights and the photos)." % online)
        else:
            head = "These outputs were produced in the ImageNet world."
            body = ("The course's VGG16 with the official ImageNet weights, on real photographs "
                    "fetched from pinned, sha256-checked URLs. `%s` runs "
                    "the same cells offline on the synthetic world." % offline)
        tail = []
        if steps is not None:
            tail.append("Path integrals use %d Riemann steps." % int(steps))
        if settings:
            tail.append("Settings: %s." % ", ".join("%s=%s" % kv for kv in settings.items()))
        return "> **%s** %s%s\n" % (head, body, "".join(" " + t for t in tail))

    def image_list(self, sets):
        """Plain-text list of the images in ``sets`` (class, id, URL): the extra
        credit's list of image URLs."""
        if isinstance(sets, ImageSet):
            sets = [sets]
        lines = []
        for s in sets:
            for name, i, url in zip(s.class_names, s.ids, s.urls or [""] * len(s)):
                lines.append("%s\t%s\t%s" % (name, i, url or "(generated)"))
        return "\n".join(lines)

    def __repr__(self):
        return "<World %s: %dx%d images, %d classes>" % (
            self.name, self.image_size, self.image_size, len(self.class_names))


class ImageNetWorld(World):
    """VGG16 with the official ImageNet weights, on the photographs of ``data/images.tsv``.

    Args:
        cache, image_dir: where images are cached / read from (see :func:`fetch`).
    """
    name = "imagenet"
    image_size = IMAGENET_IMAGE_SIZE

    def __init__(self, cache=None, image_dir=None):
        self.cache = cache
        self.image_dir = image_dir
        self.classes = dict(IMAGENET_CLASSES)
        self.classes.update({role: c for role, (c, _) in EXTRA_SETS.items()})
        self.compression_classes = list(IMAGENET_COMPRESSION_CLASSES)
        self._class_names = None

    @property
    def class_names(self):
        if self._class_names is None:
            self._class_names = models.imagenet_classes()
        return self._class_names

    def _build_model(self):
        """VGG16 with ImageNet weights (downloaded once into ``models/``)."""
        return models.VGG_16(models.vgg16_weights())

    def load(self, role, limit=None, size=None, progress=True):
        parse_role(role, self.compression_classes)
        rows = set_rows(role)
        limit = _check_limit(limit)
        if limit is not None:
            rows = rows[:limit]
        return images_from_rows(rows, role=role, size=size or self.image_size,
                                cache=self.cache, image_dir=self.image_dir,
                                progress=progress)


class SyntheticWorld(World):
    """The offline world: the surrogate model of ``synthetic_world.surrogate`` and the
    generated images of ``synthetic_world.scenes`` (with part masks), imported here, not
    at module import.
    """
    name = "synthetic"

    def __init__(self, cache=None, image_dir=None):
        from synthetic_world import scenes as synthetic
        self._synthetic = synthetic
        self.image_size = int(synthetic.IMAGE_SIZE)
        self.classes = {k: int(v) for k, v in synthetic.ROLE_CLASSES.items()}
        self.classes.update({role: list(synthetic.CLASS_NAMES).index(name)
                             for role, (_, name) in EXTRA_SETS.items()})
        self.compression_classes = [int(c) for c in synthetic.COMPRESSION_CLASSES]

    @property
    def class_names(self):
        return list(self._synthetic.CLASS_NAMES)

    def _build_model(self):
        """The surrogate model (``surrogate.load_surrogate()``)."""
        from synthetic_world import surrogate
        return surrogate.load_surrogate()

    def plan(self, role):
        """(class index, generate split, default count) for a role."""
        kind, role, c = parse_role(role, self.compression_classes)
        if kind == "influence":
            return c, "influence", SYNTHETIC_INFLUENCE
        if kind == "heldout":
            return c, "heldout", SYNTHETIC_HELDOUT
        if role in EXTRA_SETS:
            return self.classes[role], "test", SYNTHETIC_EXTRA
        return {"starfish": (self.classes["starfish"], "test", SYNTHETIC_SET_SIZE),
                "sports_cars": (self.classes["sports_car"], "influence", SYNTHETIC_SET_SIZE),
                "convertibles": (self.classes["convertible"], "influence", SYNTHETIC_SET_SIZE),
                "test_sports_cars": (self.classes["sports_car"], "test", SYNTHETIC_TEST_CARS),
                "similar_a": (self.classes["similar_a"], "influence", SYNTHETIC_SET_SIZE),
                "similar_b": (self.classes["similar_b"], "influence", SYNTHETIC_SET_SIZE),
                }[role]

    def load(self, role, limit=None, size=None, progress=False):
        """See :meth:`World.load`; generating takes milliseconds, so ``progress`` is
        accepted for the common interface and shows nothing."""
        if role == EXPLAINABILITY_ROLE:
            return self._one_per_class(role, limit, size)
        c, split, n = self.plan(role)
        limit = _check_limit(limit)
        # Generate at least the default count and cut, so a limited set is always a
        # prefix of the full one (whatever generate() does with n).
        total = max(n, limit or 0)
        images, masks = self._synthetic.generate(c, total, split, seed=SYNTHETIC_SEED)
        keep = n if limit is None else limit
        images = np.asarray(images, dtype=np.uint8)[:keep]
        masks = {k: np.asarray(m, dtype=bool)[:keep] for k, m in (masks or {}).items()}
        size = size or self.image_size
        if images.shape[1:3] != (size, size):
            images, masks = _resize_set(images, masks, size)
        name = self.class_names[c]
        return ImageSet(role=role, images=images, labels=np.full(keep, c, dtype=np.int64),
                        class_names=[name] * keep,
                        ids=["synthetic:%d:%s:%d:%d" % (c, split, SYNTHETIC_SEED, i)
                             for i in range(keep)],
                        credits=[""] * keep, masks=masks, urls=[""] * keep)

    def _one_per_class(self, role, limit, size):
        """The first held-out scene of each class (``limit``: the first classes), with
        its part masks under their own names and ``'object'``."""
        limit = _check_limit(limit)
        classes = list(range(len(self.class_names)))[:limit]
        images, _, drawn = self._synthetic.heldout_scenes(1, classes, seed=SYNTHETIC_SEED)
        masks = {"object": drawn["object"]}
        size = size or self.image_size
        if images.shape[1:3] != (size, size):
            images, masks = _resize_set(images, masks, size)
        return ImageSet(role=role, images=images, labels=np.array(classes, dtype=np.int64),
                        class_names=[self.class_names[c] for c in classes],
                        ids=["synthetic:%d:heldout:%d:0" % (c, SYNTHETIC_SEED) for c in classes],
                        credits=[""] * len(classes), masks=masks, urls=[""] * len(classes))


def _resize_set(images, masks, size):
    """Resize/centre-crop images (bilinear) and masks (nearest) to ``size``."""
    out = (np.stack([models.resize_crop(im, size) for im in images]) if len(images)
           else np.zeros((0, size, size, 3), np.uint8))
    new = {k: (np.stack([_nearest_crop(x, size) for x in m]) if len(m)
               else np.zeros((0, size, size), bool)) for k, m in masks.items()}
    return out, new


def _nearest_crop(mask, size):
    """models.resize_crop's geometry for one bool (H, W) mask, nearest neighbour."""
    from PIL import Image
    h, w = mask.shape
    scale = size / float(min(h, w))
    nh, nw = max(size, int(round(h * scale))), max(size, int(round(w * scale)))
    im = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize((nw, nh),
                                                                          Image.NEAREST))
    top, left = (nh - size) // 2, (nw - size) // 2
    return im[top:top + size, left:left + size] > 127


def load_world(name, cache=None, image_dir=None):
    """The world called ``name``.

    Args:
        name: 'imagenet' (VGG16 on real photographs; needs the network once, or
            HW3_IMAGE_DIR) or 'synthetic' (offline surrogate on generated images).
        cache, image_dir: ImageNet world image sources (see :func:`fetch`).
    Returns:
        a :class:`World`.
    Raises:
        ValueError: unknown name (the message lists the choices).
    """
    key = str(name).strip().lower()
    if key == "imagenet":
        return ImageNetWorld(cache=cache, image_dir=image_dir)
    if key == "synthetic":
        return SyntheticWorld(cache=cache, image_dir=image_dir)
    raise ValueError("unknown world %r; choose one of: %s" % (name, ", ".join(WORLDS)))


# ---------------------------------------------------------------------------
# CSEP 590B HW2: 50 images spread over the classes
# ---------------------------------------------------------------------------
SAMPLE50_ROLE = "sample50"
SYNTHETIC_SAMPLE50_PER_CLASS = 5


def sample50(world, limit=None, progress=True):
    """The CSEP 590B homework's 50-image sample, in either world.

    * ImageNet world: the ``sample50`` rows of ``data/images.tsv``, one photograph
      of each of the classes 10, 30, ..., 990 (EliSchwartz's sample images), in
      class order: the stand-in for shap's ``imagenet50``, which is not reachable.
    * Synthetic world: 50 held-out scenes, 5 of each of the 10 classes, in the order
      scene 0 of classes 0..9, scene 1 of classes 0..9, ... (so any first k images
      cover min(k, 10) classes), with their masks: ``'object'``, ``'distractors'`` and
      every class's part masks under their names (empty where a scene's class has no
      such part).

    Args:
        world: 'imagenet', 'synthetic' or a :class:`World`.
        limit: keep the first ``limit`` images (None: all 50).
        progress: show progress while photographs load.
    Returns:
        an :class:`ImageSet` with role ``'sample50'``.
    """
    w = world if isinstance(world, World) else load_world(world)
    limit = _check_limit(limit)
    if w.name == "imagenet":
        rows = set_rows(SAMPLE50_ROLE)[:limit]
        return images_from_rows(rows, role=SAMPLE50_ROLE, size=w.image_size, cache=w.cache,
                                image_dir=w.image_dir, progress=progress)
    from synthetic_world import scenes
    per, n_classes = SYNTHETIC_SAMPLE50_PER_CLASS, len(w.class_names)
    images, _, masks = scenes.heldout_scenes(per, seed=SYNTHETIC_SEED, interleave=True)
    order = [(i, c) for i in range(per) for c in range(n_classes)][:limit]
    images, masks = images[:len(order)], {k: m[:len(order)] for k, m in masks.items()}
    return ImageSet(role=SAMPLE50_ROLE, images=images,
                    labels=np.array([c for _, c in order], dtype=np.int64),
                    class_names=[w.class_names[c] for _, c in order],
                    ids=["synthetic:%d:heldout:%d:%d" % (c, SYNTHETIC_SEED, i)
                         for i, c in order],
                    credits=[""] * len(order), masks=masks, urls=[""] * len(order))
