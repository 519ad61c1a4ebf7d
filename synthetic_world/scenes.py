"""The offline "synthetic world"'s scenes: 64x64 images with ground-truth part masks
(the objects' drawings are in :mod:`synthetic_world.objects`; the small VGG-layout
surrogate model trained on the scenes is in :mod:`synthetic_world.surrogate`).

The homework explains VGG16 on ImageNet photographs; without the 528 MB ImageNet
weights (or without a network) the notebook runs on this world instead. Its ten
classes mirror the homework's roles:

* ``starfish`` (a five-armed star) for the slice explanations of Part II;
* ``sports car`` and ``convertible`` for the comparative explanations of Part III.
  Both are drawn from the *same* distribution of body, wheels, colours, poses and
  backgrounds; the only systematic difference is the roof: a closed cabin with
  windows on the sports car, an open top (windshield, seats and headrests) on the
  convertible;
* ``pickup`` and ``van`` (the extra-credit pair): the same cab, and behind it an open
  bed (rim and interior visible) or a closed tall cargo box;
* ``chain saw``, ``golf ball``, ``church``, ``parachute``, ``fish`` for the model
  compression of Part IV.

Scenes vary in position, scale, horizontal flip, small rotations, colours,
background texture (gradients, smooth noise, stripes) and clutter (1-3 distractor
shapes that belong to no class and never touch the object), so a model has to learn
shapes. Every image comes with boolean masks of its parts: ``'object'`` (every pixel
the object covers) and the class's parts (see :data:`PARTS`). A part mask holds
exactly the pixels that part's drawing calls painted and that no later part
painted over, because each primitive is rasterised once and the same raster both
paints the pixels and sets the mask; the painted parts tile the object mask. Two
masks are *regions* instead (:data:`REGION_PARTS`): ``'roof'`` on the convertible
is the cabin region where the sports car's roof would be, and ``'bed'`` on the
pickup is the cargo region where the van's box would be (minus what the wheels
cover, as on the twin). They may include background pixels; the convertible's
windshield and seats and the pickup's open bed are drawn inside them.

Generation is deterministic: image ``i`` of class ``c`` in split ``s`` with seed
``seed`` is drawn from ``np.random.default_rng([seed, split_id, c, i, stream])`` (four
streams: object, background, clutter, class-specific details), so the same call
always returns the same bytes, splits and classes never share a stream, and the
first ``k`` images of a call do not depend on ``n``. The twin classes draw
everything but their roof or cargo from the shared streams, so
:func:`generate_twins` renders the *same* scenes as the other class: a sports car
and its convertible twin differ only inside the 'roof' region, a pickup and its van
twin only inside the 'bed' region.
"""
import hw3_env  # noqa: F401  (must come before keras)

import numpy as np
from PIL import Image, ImageDraw

from synthetic_world.objects import TWINS, Shape, draw, poly, rect

IMAGE_SIZE = 64
CLASS_NAMES = ['starfish', 'sports car', 'convertible', 'pickup', 'van', 'chain saw',
               'golf ball', 'church', 'parachute', 'fish']
ROLE_CLASSES = {'starfish': 0, 'sports_car': 1, 'convertible': 2, 'similar_a': 3,
                'similar_b': 4}
COMPRESSION_CLASSES = [5, 6, 7, 8, 9]
SPLITS = ('train', 'influence', 'heldout', 'test')

PARTS = {
    0: ('object', 'arms', 'center'),
    1: ('object', 'body', 'wheels', 'roof'),
    2: ('object', 'body', 'wheels', 'roof', 'windshield', 'seats'),
    3: ('object', 'cab', 'bed', 'wheels', 'open_bed'),
    4: ('object', 'cab', 'bed', 'wheels'),
    5: ('object', 'engine', 'handle', 'bar', 'teeth'),
    6: ('object', 'ball', 'tee'),
    7: ('object', 'building', 'tower', 'spire', 'cross'),
    8: ('object', 'canopy', 'lines', 'figure'),
    9: ('object', 'body', 'tail', 'fin', 'eye'),
}
"""Mask names returned for each class index (``'tee'`` may be empty: not every golf
ball sits on a tee)."""

REGION_PARTS = {2: ('roof',), 3: ('bed',)}
"""(class index -> part names) whose masks are regions, not painted pixels."""

BACKGROUND_KINDS = ('gradient', 'smooth noise', 'stripes')
"""The background's kinds, in the order of the background stream's first draw (the
scene-level label of :func:`background_kinds`)."""

SCENE_MASKS = ('distractors',) + BACKGROUND_KINDS
"""Masks of the scene outside the object, returned for every class: ``'distractors'``
holds the pixels the clutter shapes painted (never touching the object; empty on a
flat background); ``'gradient'``, ``'smooth noise'`` and ``'stripes'`` hold the
background pixels that show that texture (every pixel outside the object and the
clutter, under the scene's one kind; all three empty on a flat background)."""

TASKS = {'object': CLASS_NAMES, 'background': list(BACKGROUND_KINDS),
         'stripes': ['no stripes', 'stripes']}
"""Training tasks -> their class names (:func:`task_labels`): ``'object'`` labels a scene
with its object's class, ``'background'`` with its background's kind, ``'stripes'``
with whether its background is striped (kind 'stripes' against 'gradient' and
'smooth noise', which a network of the surrogate's size tells apart only slowly)."""

_MARGIN = 2.0          # pixels kept free around the object
_ATTEMPTS = 12         # tries to place one distractor without touching the object


# ---------------------------------------------------------------------------
# Input checking and seeding
# ---------------------------------------------------------------------------
def _check_int(value, name, low=0, high=None):
    """``value`` as an int within [low, high); ValueError otherwise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError('%s must be an integer, got %r' % (name, value))
    value = int(value)
    if value < low or (high is not None and value >= high):
        bound = '[%d, %d)' % (low, high) if high is not None else '>= %d' % low
        raise ValueError('%s must be in %s, got %d' % (name, bound, value))
    return value


def check_class(class_index):
    """Validate a class index.

    Args:
        class_index: an int in [0, 10).
    Returns:
        the index as an int.
    Raises:
        ValueError: not an integer or out of range.
    """
    return _check_int(class_index, 'class_index', 0, len(CLASS_NAMES))


def _split_id(split):
    if split not in SPLITS:
        raise ValueError('split must be one of %s, got %r' % (', '.join(SPLITS), split))
    return SPLITS.index(split)


def _rngs(seed, split_id, class_index, i):
    """The four independent generators of one image: object (shape, shared colours,
    pose), background, clutter, and class-specific details (the roof or cargo of the
    twin classes, so that twins drawn from the same streams differ only there)."""
    return [np.random.default_rng([seed, split_id, class_index, i, k]) for k in range(4)]


# ---------------------------------------------------------------------------
# Pose and rasterisation
# ---------------------------------------------------------------------------
# (min, max) scale in pixels per object unit, and max |rotation| in degrees
_POSE = {0: ((13, 21), 180), 1: ((19, 28), 5), 2: ((19, 28), 5), 3: ((16, 26), 5),
         4: ((16, 26), 5), 5: ((16, 26), 25), 6: ((9, 16), 0), 7: ((13, 19), 5),
         8: ((14, 20), 15), 9: ((17, 27), 20)}


def _extent(shapes):
    """Bounding box (x0, y0, x1, y1) of all shapes in object units (lines padded)."""
    pts = np.concatenate([s.points for s in shapes])
    pad = max([s.width / 2 for s in shapes] + [0.0])
    lo, hi = pts.min(axis=0) - pad, pts.max(axis=0) + pad
    return lo[0], lo[1], hi[0], hi[1]


def _pose(rng, class_index, shapes):
    """Random scale, flip, rotation and position that keep the object inside the
    image; returns a function mapping (N, 2) object points to pixels, and the scale."""
    (lo, hi), max_rot = _POSE[class_index]
    flip = rng.random() < 0.5
    theta = np.deg2rad(rng.uniform(-max_rot, max_rot))
    c, s = np.cos(theta), np.sin(theta)
    rot = np.array([[c, -s], [s, c]]) @ np.diag([-1.0 if flip else 1.0, 1.0])
    moved = [Shape(sh.part, sh.points @ rot.T, sh.colour, sh.kind, sh.width) for sh in shapes]
    x0, y0, x1, y1 = _extent(moved)
    room = IMAGE_SIZE - 2 * _MARGIN - 1
    scale = min(rng.uniform(lo, hi), room / (x1 - x0), room / (y1 - y0))
    tx = rng.uniform(_MARGIN - scale * x0, IMAGE_SIZE - 1 - _MARGIN - scale * x1)
    ty = rng.uniform(_MARGIN - scale * y0, IMAGE_SIZE - 1 - _MARGIN - scale * y1)
    return (lambda p: p @ rot.T * scale + (tx, ty)), scale


def _raster(points, kind='polygon', width=1):
    """Boolean (64, 64) mask of one primitive at pixel coordinates (Pillow, no
    anti-aliasing)."""
    im = Image.new('L', (IMAGE_SIZE, IMAGE_SIZE), 0)
    draw = ImageDraw.Draw(im)
    xy = [tuple(p) for p in np.asarray(points, dtype=float)]
    if kind == 'polygon':
        draw.polygon(xy, fill=255)
    elif kind == 'line':
        draw.line(xy, fill=255, width=int(width), joint='curve')
    else:
        raise ValueError('unknown primitive kind %r' % kind)
    return np.asarray(im) > 0


def _rasterise(shapes, to_pixels, scale):
    """[(part, mask, colour or None, inside)] for shapes in object coordinates."""
    out, first = [], {}
    for sh in shapes:
        width = max(1, int(round(sh.width * scale))) if sh.kind == 'line' else 1
        mask = _raster(to_pixels(sh.points), sh.kind, width)
        first.setdefault(sh.part, mask)
        if sh.inside is not None:
            mask = mask & first[sh.inside]
        out.append((sh.part, mask, sh.colour, sh.inside))
    return out


def _paint(image, layers, parts):
    """Paint ``layers`` in order onto ``image`` (in place) and build the part masks:
    a painted pixel belongs to the last part painted on it; region layers only set
    their own mask, and lose the pixels painted later by layers not inside them.

    Returns:
        dict part -> bool (64, 64), with 'object' the union of all painted pixels.
    """
    shape = (IMAGE_SIZE, IMAGE_SIZE)
    painted = {p: np.zeros(shape, bool) for p in parts if p != 'object'}
    regions = {}
    for part, mask, colour, inside in layers:
        if colour is None:
            regions[part] = regions.get(part, np.zeros(shape, bool)) | mask
            continue
        image[mask] = colour
        for m in painted.values():
            m &= ~mask
        for name, m in regions.items():
            if name != inside:
                m &= ~mask
        painted[part] |= mask
    obj = np.zeros(shape, bool)
    for m in painted.values():
        obj |= m
    painted.update(regions)
    painted['object'] = obj
    return painted


# ---------------------------------------------------------------------------
# Backgrounds and clutter
# ---------------------------------------------------------------------------
def _random_colour(rng):
    return rng.uniform(0, 255, 3)


def _background_kind(rng):
    """The background's kind (an index into :data:`BACKGROUND_KINDS`): the first draw
    of the background stream."""
    return int(rng.integers(len(BACKGROUND_KINDS)))


def _background(rng):
    """A background: gradient, smooth noise or stripes between two colours at most
    100 apart per channel, plus fine noise.

    Returns:
        (float (64, 64, 3) image, kind: index into :data:`BACKGROUND_KINDS`).
    """
    kind = _background_kind(rng)
    yy, xx = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE] / float(IMAGE_SIZE - 1)
    a = _random_colour(rng)
    b = np.clip(a + rng.uniform(-100, 100, 3), 0, 255)
    angle = rng.uniform(0, 2 * np.pi)
    t = xx * np.cos(angle) + yy * np.sin(angle)
    if kind == 0:
        t = (t - t.min()) / (t.max() - t.min())
    elif kind == 1:
        low = rng.uniform(0, 1, (5, 5))
        t = np.asarray(Image.fromarray((low * 255).astype(np.uint8)).resize(
            (IMAGE_SIZE, IMAGE_SIZE), Image.BICUBIC), float) / 255.0
    else:
        period = rng.uniform(0.1, 0.3)
        t = 0.5 + 0.5 * np.sin(2 * np.pi * t / period)
        if rng.random() < 0.5:
            t = np.round(t)
    img = a + t[..., None] * (b - a)
    return img + rng.normal(0, rng.uniform(0, 10), img.shape), kind


def _distractor(rng):
    """One clutter shape in pixel coordinates around the origin: a rotated
    quadrilateral, a triangle or a short thick stroke (never a class's shape)."""
    kind = int(rng.integers(3))
    size = rng.uniform(3, 7)
    if kind == 0:
        pts = rect(-size, -size * rng.uniform(0.3, 1), size, size * rng.uniform(0.3, 1))
    elif kind == 1:
        angles = np.sort(rng.uniform(0, 2 * np.pi, 3))
        pts = np.stack([np.cos(angles), np.sin(angles)], 1) * size
    else:
        pts = poly((-size, 0), (size * 0.3, rng.uniform(-1, 1) * size),
                    (size, rng.uniform(-1, 1) * size))
    theta = rng.uniform(0, 2 * np.pi)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return pts @ rot.T, ('line' if kind == 2 else 'polygon'), int(rng.integers(2, 4))


def _clutter(rng, image, keep_out):
    """Draw 1-3 distractors on ``image`` (in place), each placed so that it does not
    touch ``keep_out`` (the object dilated); a distractor that finds no room after a
    few attempts is skipped.

    Returns:
        bool (64, 64): the pixels the distractors painted.
    """
    drawn = np.zeros(keep_out.shape, bool)
    for _ in range(int(rng.integers(1, 4))):
        pts, kind, width = _distractor(rng)
        colour = _random_colour(rng)
        for _ in range(_ATTEMPTS):
            m = _raster(pts + rng.uniform(0, IMAGE_SIZE, 2), kind, width)
            if m.any() and not (m & keep_out).any():
                image[m] = colour
                drawn |= m
                break
    return drawn


def _dilate(mask, r=2):
    """``mask`` grown by ``r`` pixels in every direction (a square neighbourhood)."""
    out = mask.copy()
    for axis in (0, 1):
        src = np.moveaxis(out.copy(), axis, 0)
        dst = np.moveaxis(out, axis, 0)
        for d in range(1, r + 1):
            dst[d:] |= src[:-d]
            dst[:-d] |= src[d:]
    return out


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------
def render(class_index, rngs, flat_background=None):
    """Render one scene.

    Args:
        class_index: class to draw.
        rngs: four ``np.random.Generator`` (object, background, clutter, detail).
        flat_background: None for a textured background with clutter; an RGB triple
            for a flat background of that colour and no clutter (tests, figures).
    Returns:
        (image uint8 (64, 64, 3), dict part -> bool (64, 64)): the class's parts of
        :data:`PARTS` and the scene masks of :data:`SCENE_MASKS`.
    """
    rng_obj, rng_bg, rng_clutter, rng_detail = rngs
    shapes = draw(class_index, rng_obj, rng_detail)
    to_pixels, scale = _pose(rng_obj, class_index, shapes)
    layers = _rasterise(shapes, to_pixels, scale)
    kind = None
    if flat_background is None:
        image, kind = _background(rng_bg)
        occupied = np.zeros((IMAGE_SIZE, IMAGE_SIZE), bool)
        for _, m, _, _ in layers:    # painted parts and regions: clutter stays clear
            occupied |= m
        clutter = _clutter(rng_clutter, image, _dilate(occupied))
    else:
        image = np.empty((IMAGE_SIZE, IMAGE_SIZE, 3))
        image[:] = np.asarray(flat_background, dtype=float)
        clutter = np.zeros((IMAGE_SIZE, IMAGE_SIZE), bool)
    image = np.clip(np.round(image), 0, 255).astype(np.uint8)
    masks = _paint(image, layers, PARTS[class_index])
    masks['distractors'] = clutter
    background = ~masks['object'] & ~clutter
    for k, name in enumerate(BACKGROUND_KINDS):
        masks[name] = background & (kind == k)
    return image, masks


def _check_flat(flat_background):
    if flat_background is None:
        return None
    c = np.asarray(flat_background)
    if (c.shape != (3,) or not np.issubdtype(c.dtype, np.number)
            or not np.all((c >= 0) & (c <= 255))):
        raise ValueError('flat_background must be an RGB triple in 0..255 or None, got %r'
                         % (flat_background,))
    return tuple(int(v) for v in c)


def _generate(class_index, stream_class, n, split, seed, start, flat_background):
    """Images of ``class_index`` drawn from the random streams of ``stream_class``."""
    split_id = _split_id(split)
    n = _check_int(n, 'n')
    seed = _check_int(seed, 'seed')
    start = _check_int(start, 'start')
    flat = _check_flat(flat_background)
    images = np.zeros((n, IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    masks = {p: np.zeros((n, IMAGE_SIZE, IMAGE_SIZE), bool)
             for p in PARTS[class_index] + SCENE_MASKS}
    for j in range(n):
        img, m = render(class_index, _rngs(seed, split_id, stream_class, start + j), flat)
        images[j] = img
        for p in masks:
            masks[p][j] = m[p]
    return images, masks


def generate(class_index, n, split, seed=0, start=0, flat_background=None):
    """Generate ``n`` scenes of one class with their part masks.

    Args:
        class_index: index into :data:`CLASS_NAMES` (0..9).
        n: number of images (>= 0).
        split: 'train', 'influence', 'heldout' or 'test'; each split (and each class)
            has its own deterministic random streams.
        seed: non-negative int selecting another deterministic world.
        start: index of the first image; ``generate(c, n, s, seed, start=k)`` gives
            images k..k+n-1 of the same stream (fresh training data per epoch).
        flat_background: None (textured background, clutter) or an RGB triple: a
            flat background of that colour and no clutter; the object is the same.
    Returns:
        (images, masks): uint8 (n, 64, 64, 3) RGB images and a dict part name ->
        bool (n, 64, 64) with the parts of :data:`PARTS` ``[class_index]`` and the
        scene masks of :data:`SCENE_MASKS`.
    Raises:
        ValueError: bad class index, split, n, seed, start or flat_background.
    """
    class_index = check_class(class_index)
    return _generate(class_index, class_index, n, split, seed, start, flat_background)


def generate_twins(class_index, n, split, seed=0, start=0, flat_background=None):
    """The counterfactual twins of ``generate(class_index, ...)``: the same scenes
    (object geometry, colours, pose, background, clutter) with the twin class's
    roof (sports car <-> convertible) or cargo (pickup <-> van).

    Args:
        class_index: 1, 2, 3 or 4 (see :data:`TWINS`); the others have no twin.
        n, split, seed, start, flat_background: as for :func:`generate`.
    Returns:
        (images, masks) of class ``TWINS[class_index]``; pixels differ from
        ``generate(class_index, ...)`` only inside the 'roof' / 'bed' region.
    Raises:
        ValueError: bad arguments or a class without a twin.
    """
    class_index = check_class(class_index)
    if class_index not in TWINS:
        raise ValueError('class %d (%s) has no twin; twins exist for %s'
                         % (class_index, CLASS_NAMES[class_index], sorted(TWINS)))
    return _generate(TWINS[class_index], class_index, n, split, seed, start, flat_background)


def background_kinds(class_index, n, split, seed=0, start=0):
    """The background kinds of ``generate(class_index, n, split, seed, start)``'s scenes
    (the scene-level label), read from the first draw of each scene's background stream
    without rendering it.

    Args:
        class_index, n, split, seed, start: as for :func:`generate`.
    Returns:
        int64 (n,): indices into :data:`BACKGROUND_KINDS`.
    """
    class_index = check_class(class_index)
    split_id = _split_id(split)
    n, seed, start = _check_int(n, 'n'), _check_int(seed, 'seed'), _check_int(start, 'start')
    return np.array([_background_kind(_rngs(seed, split_id, class_index, start + j)[1])
                     for j in range(n)], dtype=np.int64)


def check_task(task):
    """Validate a task name (a key of :data:`TASKS`)."""
    if task not in TASKS:
        raise ValueError('task must be one of %s, got %r' % (', '.join(TASKS), task))
    return task


def task_labels(task, class_index, n, split, seed=0, start=0):
    """The labels of ``generate(class_index, n, split, seed, start)``'s scenes under
    ``task``: the object's class, or the background's kind.

    Returns:
        int64 (n,): indices into ``TASKS[task]``.
    """
    if check_task(task) == 'object':
        return np.full(_check_int(n, 'n'), check_class(class_index), dtype=np.int64)
    kinds = background_kinds(class_index, n, split, seed, start)
    if task == 'stripes':
        return (kinds == BACKGROUND_KINDS.index('stripes')).astype(np.int64)
    return kinds


def generate_dataset(classes, n_per_class, split, seed=0, start=0, task='object'):
    """Images and labels of several classes (no masks), class by class.

    Args:
        classes: iterable of class indices.
        n_per_class: images per class.
        split, seed, start: as for :func:`generate`.
        task: the labels' task (:data:`TASKS`): the object's class or the background's kind.
    Returns:
        (images uint8 (N, 64, 64, 3), labels int64 (N,)).
    """
    classes = [check_class(c) for c in classes]
    parts = [generate(c, n_per_class, split, seed, start)[0] for c in classes]
    labels = np.concatenate([task_labels(task, c, n_per_class, split, seed, start)
                             for c in classes] or [np.zeros(0, np.int64)])
    empty = np.zeros((0, IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    return (np.concatenate(parts) if parts else empty), labels


def heldout_scenes(per_class, classes=None, seed=0, interleave=False):
    """Held-out scenes of several classes with every mask, as one set: the probe and
    test sets of the evaluations (the scenes of ``generate(c, per_class, 'heldout',
    seed)`` for each class ``c``).

    Args:
        per_class: scenes per class (>= 1).
        classes: class indices (default: all ten, in order).
        seed: non-negative int selecting the world (as for :func:`generate`).
        interleave: False: class by class; True: scene 0 of every class, then scene 1
            of every class, ... (so any first k scenes cover min(k, len(classes))
            classes).
    Returns:
        (images, labels, masks): uint8 (N, 64, 64, 3), int64 (N,) class indices, and a
        dict mask name -> bool (N, 64, 64) holding every name of the classes'
        :data:`PARTS` and of :data:`SCENE_MASKS` (in order of first appearance),
        all False on the scenes of a class without that part. A part name that
        several classes use ('body' of the cars and of the fish) holds each scene's
        own part.
    Raises:
        ValueError: bad per_class, class index or seed, or no class.
    """
    per_class = _check_int(per_class, 'per_class', 1)
    classes = list(range(len(CLASS_NAMES))) if classes is None else [
        check_class(c) for c in classes]
    if not classes:
        raise ValueError('classes must name at least one class, got none')
    drawn = [generate(c, per_class, 'heldout', seed) for c in classes]
    if interleave:
        rows = [k * per_class + i for i in range(per_class) for k in range(len(classes))]
    else:
        rows = list(range(per_class * len(classes)))
    images = np.concatenate([ims for ims, _ in drawn])[rows]
    labels = np.repeat(np.asarray(classes, dtype=np.int64), per_class)[rows]
    empty = np.zeros((per_class, IMAGE_SIZE, IMAGE_SIZE), bool)
    names = dict.fromkeys(name for _, ms in drawn for name in ms)
    masks = {name: np.concatenate([ms.get(name, empty) for _, ms in drawn])[rows]
             for name in names}
    return images, labels, masks
