"""The offline "synthetic world": 64x64 scenes with ground-truth part masks, and the
small VGG-layout surrogate model trained on them.

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
import json
import os

import hw3_env

import numpy as np
from PIL import Image, ImageDraw

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

SURROGATE_WIDTHS = (8, 16, 32, 64, 64)
SURROGATE_DENSE = 128
SURROGATE_PATH = os.path.join(hw3_env.ROOT, 'models', 'surrogate.h5')
BACKGROUND_SURROGATE_PATH = os.path.join(hw3_env.ROOT, 'models', 'surrogate_background.h5')
"""The second surrogate: the same layout trained on a scene-level label (task
``'stripes'``: is the background striped?) instead of the object's class."""

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
# Shapes in object coordinates (x right, y down; the object faces right)
# ---------------------------------------------------------------------------
def _ellipse(cx, cy, rx, ry, n=24, start=0.0, stop=2 * np.pi):
    """Points of an ellipse (or of an arc of it when start/stop are given)."""
    t = np.linspace(start, stop, n, endpoint=(stop - start) < 2 * np.pi - 1e-9)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _rect(x0, y0, x1, y1):
    return np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], dtype=float)


def _poly(*points):
    return np.array(points, dtype=float)


def _jitter(rng, colour, amount=20):
    """A colour near ``colour`` (each channel +-amount), as a tuple of ints."""
    c = np.asarray(colour, dtype=float) + rng.uniform(-amount, amount, 3)
    return tuple(int(v) for v in np.clip(np.round(c), 0, 255))


def _choice(rng, options):
    return options[int(rng.integers(len(options)))]


def _shade(colour, factor):
    return tuple(int(np.clip(round(c * factor), 0, 255)) for c in colour)


class _Shape:
    """One drawing primitive: ``kind`` 'polygon' or 'line' (``width`` in object
    units), painted in ``colour`` as part ``part``, or only added to the mask of
    ``part`` when ``colour`` is None (a region). ``inside`` names a part drawn
    earlier: the primitive is clipped to that part's first primitive, and does not
    take pixels away from it when that part is a region."""
    __slots__ = ('part', 'kind', 'points', 'colour', 'width', 'inside')

    def __init__(self, part, points, colour, kind='polygon', width=0.0, inside=None):
        self.part, self.points, self.colour = part, np.asarray(points, float), colour
        self.kind, self.width, self.inside = kind, width, inside


CAR_COLOURS = [(200, 30, 30), (230, 200, 40), (30, 70, 180), (30, 30, 35),
               (235, 235, 235), (160, 165, 170), (30, 130, 60), (240, 120, 20),
               (110, 20, 40), (90, 160, 220)]
GLASS = (160, 195, 225)
TYRE = (35, 35, 38)


def _wheels(rng, xs, y, r):
    """Tyres and hubs of a vehicle (part 'wheels')."""
    tyre, hub = _jitter(rng, TYRE, 12), _jitter(rng, (175, 175, 180), 30)
    shapes = []
    for x in xs:
        shapes.append(_Shape('wheels', _ellipse(x, y, r, r, 20), tyre))
        shapes.append(_Shape('wheels', _ellipse(x, y, 0.5 * r, 0.5 * r, 14), hub))
    return shapes


def _car_geometry(rng):
    """The shared geometry of sports cars and convertibles.

    Returns:
        dict with body height ``hb``, cabin trapezoid ``cabin`` (4 points), wheel
        positions/radius and the body colour.
    """
    hb = rng.uniform(0.24, 0.32)
    xr, xf = rng.uniform(-0.55, -0.38), rng.uniform(0.22, 0.38)
    hc = rng.uniform(0.25, 0.33)
    xrt, xft = xr + rng.uniform(0.12, 0.24), xf - rng.uniform(0.28, 0.40)
    return {
        'hb': hb, 'xr': xr, 'xf': xf, 'hc': hc, 'xrt': xrt, 'xft': xft,
        'cabin': _poly((xr, -hb), (xrt, -hb - hc), (xft, -hb - hc), (xf, -hb)),
        'wheel_x': (-0.62 + rng.uniform(-0.05, 0.05), 0.62 + rng.uniform(-0.05, 0.05)),
        'wheel_r': rng.uniform(0.16, 0.21),
        'colour': _jitter(rng, _choice(rng, CAR_COLOURS), 25),
        'glass': _jitter(rng, GLASS, 25),
    }


def _car_body(rng, g):
    """Low sleek body with head- and tail-light (part 'body')."""
    hb, c = g['hb'], g['colour']
    body = _poly((-1.0, 0.07), (-1.0, -0.72 * hb), (-0.9, -hb), (g['xf'] + 0.06, -hb),
                 (0.55, -0.72 * hb), (0.96, -0.45 * hb), (1.0, -0.12 * hb), (0.98, 0.07))
    return [_Shape('body', body, c),
            _Shape('body', _rect(0.9, -0.42 * hb, 0.99, -0.24 * hb),
                   _jitter(rng, (250, 240, 170), 5)),
            _Shape('body', _rect(-1.0, -0.62 * hb, -0.93, -0.42 * hb),
                   _jitter(rng, (200, 20, 20), 10))]


def _closed_roof(g):
    """The sports car's cabin: solid roof in body colour with two side windows."""
    hb, hc = g['hb'], g['hc']
    top, bottom = -hb - 0.68 * hc, -hb - 0.12 * hc
    fr = lambda y: g['xr'] + (g['xrt'] - g['xr']) * (-hb - y) / hc   # rear edge at y
    ff = lambda y: g['xf'] + (g['xft'] - g['xf']) * (-hb - y) / hc   # front edge at y
    pillar = 0.5 * (g['xrt'] + g['xft'])
    rear = _poly((fr(bottom) + 0.07, bottom), (fr(top) + 0.06, top), (pillar - 0.03, top),
                 (pillar - 0.03, bottom))
    front = _poly((pillar + 0.03, bottom), (pillar + 0.03, top), (ff(top) - 0.05, top),
                  (ff(bottom) - 0.07, bottom))
    return [_Shape('roof', g['cabin'], g['colour']),
            _Shape('roof', rear, g['glass'], inside='roof'),
            _Shape('roof', front, g['glass'], inside='roof')]


def _open_top(rng, g):
    """The convertible's open top: a windshield and one or two seats with headrests,
    all inside the cabin region (which becomes the 'roof' region mask)."""
    hb, hc = g['hb'], g['hc']
    h = rng.uniform(0.6, 0.75) * hc
    t = h / hc
    xf_top = g['xf'] + (g['xft'] - g['xf']) * t
    shield = _poly((g['xf'], -hb), (xf_top, -hb - h), (xf_top - 0.06, -hb - h),
                   (g['xf'] - 0.07, -hb))
    seat = _jitter(rng, _choice(rng, [(30, 30, 30), (200, 170, 120), (150, 30, 30),
                                     (100, 60, 35), (235, 225, 200)]), 15)
    shapes = [_Shape('roof', g['cabin'], None),
              _Shape('windshield', shield, g['glass'], inside='roof')]
    lo, hi = g['xrt'] + 0.04, xf_top - 0.22
    n_seats = 1 if hi - lo < 0.3 else int(rng.integers(1, 3))
    for k in range(n_seats):
        x = hi - k * rng.uniform(0.26, 0.32) - rng.uniform(0.0, 0.04)
        x = max(x, lo)
        sh = rng.uniform(0.35, 0.45) * hc
        back = _poly((x, -hb), (x - 0.05, -hb - sh), (x + 0.05, -hb - sh), (x + 0.11, -hb))
        rest = _ellipse(x, -hb - sh - 0.09 * hc, 0.065, 0.11 * hc, 12)
        shapes += [_Shape('seats', back, seat, inside='roof'),
                   _Shape('seats', rest, _shade(seat, 0.85), inside='roof')]
    return shapes


def _car(rng, detail, convertible):
    g = _car_geometry(rng)
    body = _car_body(rng, g)
    wheels = _wheels(rng, g['wheel_x'], 0.06, g['wheel_r'])
    top = _open_top(detail, g) if convertible else _closed_roof(g)
    return body + top + wheels


def _truck_geometry(rng):
    """The shared geometry of pickups and vans: cab, cargo region, wheels."""
    hc = rng.uniform(0.62, 0.74)
    x0 = rng.uniform(0.12, 0.28)
    return {
        'hc': hc, 'x0': x0, 'hood': rng.uniform(0.32, 0.42),
        'roof_len': rng.uniform(0.22, 0.32),
        'cargo': _rect(-1.0, -hc - rng.uniform(0.0, 0.12), x0 - 0.04, 0.08),
        'wheel_x': (-0.6 + rng.uniform(-0.06, 0.06), 0.64 + rng.uniform(-0.04, 0.04)),
        'wheel_r': rng.uniform(0.17, 0.21),
        'colour': _jitter(rng, _choice(rng, CAR_COLOURS), 25),
        'glass': _jitter(rng, GLASS, 25),
    }


def _cab(rng, g):
    """Cab with hood, side window and headlight (part 'cab')."""
    hc, x0, hood = g['hc'], g['x0'], g['hood']
    xw = x0 + g['roof_len']            # where the windshield starts
    xh = xw + 0.2                      # where the hood starts
    cab = _poly((x0, 0.08), (x0, -hc), (xw, -hc), (xh, -hood), (1.0, -hood + 0.03),
                (1.0, 0.08))
    window = _poly((x0 + 0.06, -hc + 0.07), (xw - 0.01, -hc + 0.07),
                   (xh - 0.07, -hood - 0.04), (x0 + 0.06, -hood - 0.04))
    light = _rect(0.92, -hood + 0.06, 0.995, -hood + 0.14)
    return [_Shape('cab', cab, g['colour']), _Shape('cab', window, g['glass']),
            _Shape('cab', light, _jitter(rng, (250, 240, 170), 5))]


def _open_bed(rng, g):
    """The pickup's open bed: low side wall, the far wall's darker inner face above
    it, a rim and a tailgate (part 'open_bed'); the cargo region is 'bed'."""
    (xa, top), (xb, bottom) = g['cargo'][0], g['cargo'][2]
    wall = rng.uniform(0.3, 0.38)
    c = g['colour']
    inner = _poly((xa + 0.05, bottom - wall), (xa + 0.1, bottom - wall - 0.11),
                  (xb - 0.02, bottom - wall - 0.11), (xb - 0.02, bottom - wall))
    rim = _rect(xa, bottom - wall - 0.04, xb, bottom - wall + 0.02)
    return [_Shape('bed', g['cargo'], None),
            _Shape('open_bed', inner, _shade(c, 0.45), inside='bed'),
            _Shape('open_bed', _rect(xa, bottom - wall, xb, bottom), c, inside='bed'),
            _Shape('open_bed', rim, _jitter(rng, (190, 190, 195), 25), inside='bed'),
            _Shape('open_bed', _rect(xa, bottom - wall, xa + 0.05, bottom), _shade(c, 0.75),
                   inside='bed')]


def _box(rng, g):
    """The van's closed tall cargo box with a stripe and a door seam (part 'bed')."""
    (xa, top), (xb, bottom) = g['cargo'][0], g['cargo'][2]
    colour = g['colour'] if rng.random() < 0.5 else _jitter(rng, (232, 232, 228), 18)
    y = top + rng.uniform(0.35, 0.6) * (bottom - top)
    stripe = _rect(xa, y, xb, y + 0.06)
    seam = _rect(xa + 0.1, top + 0.05, xa + 0.13, bottom - 0.05)
    return [_Shape('bed', g['cargo'], colour),
            _Shape('bed', stripe, _jitter(rng, _choice(rng, CAR_COLOURS), 25), inside='bed'),
            _Shape('bed', seam, _shade(colour, 0.7), inside='bed')]


def _truck(rng, detail, van):
    g = _truck_geometry(rng)
    cab = _cab(rng, g)
    wheels = _wheels(rng, g['wheel_x'], 0.1, g['wheel_r'])
    cargo = _box(detail, g) if van else _open_bed(detail, g)
    return cargo + cab + wheels


def _starfish(rng):
    """Five arms (a star, arms of random length, with bumps) and a central disc."""
    colour = _jitter(rng, _choice(rng, [(235, 110, 30), (200, 40, 40), (150, 60, 160),
                                       (240, 170, 60), (220, 90, 120)]), 25)
    inner = rng.uniform(0.32, 0.42)
    lengths = rng.uniform(0.82, 1.0, 5)
    phase = rng.uniform(0, 2 * np.pi)
    pts = []
    for k in range(5):
        a = phase + 2 * np.pi * k / 5
        for da, r in ((-0.09, lengths[k] * 0.93), (0.0, lengths[k]), (0.09, lengths[k] * 0.93),
                      (np.pi / 5, inner)):
            pts.append((r * np.cos(a + da), r * np.sin(a + da)))
    shapes = [_Shape('arms', _poly(*pts), colour)]
    bump = _shade(colour, 1.3) if sum(colour) < 500 else _shade(colour, 0.75)
    for k in range(5):
        a = phase + 2 * np.pi * k / 5
        for r in (0.45, 0.62, 0.78)[:int(rng.integers(2, 4))]:
            shapes.append(_Shape('arms', _ellipse(r * np.cos(a), r * np.sin(a), 0.045, 0.045, 8),
                                 bump))
    c = 0.55 * inner
    shapes.append(_Shape('center', _ellipse(0, 0, c, c, 16), _shade(colour, 0.8)))
    return shapes


def _chain_saw(rng):
    """Engine housing, top handle and hand guard, guide bar with chain teeth."""
    colour = _jitter(rng, _choice(rng, [(240, 120, 20), (230, 200, 40), (200, 40, 30),
                                       (60, 140, 60), (230, 230, 230)]), 20)
    bar_len = rng.uniform(0.9, 1.05)
    bar_h = rng.uniform(0.07, 0.1)
    steel = _jitter(rng, (170, 172, 178), 20)
    dark = _jitter(rng, (40, 40, 45), 10)
    x1 = -0.2 + bar_len
    bar = np.concatenate([_poly((-0.25, -bar_h), (x1 - bar_h, -bar_h)),
                          _ellipse(x1 - bar_h, 0, bar_h, bar_h, 10, -np.pi / 2, np.pi / 2),
                          _poly((-0.25, bar_h))])
    shapes = [_Shape('bar', bar, steel)]
    n = int(bar_len / 0.09)
    for k in range(n):
        x = -0.18 + k * (x1 - bar_h - (-0.18)) / n
        shapes.append(_Shape('teeth', _poly((x, -bar_h), (x + 0.045, -bar_h - 0.07),
                                            (x + 0.08, -bar_h)), dark))
        shapes.append(_Shape('teeth', _poly((x, bar_h), (x + 0.045, bar_h + 0.07),
                                            (x + 0.08, bar_h)), dark))
    engine = _poly((-1.0, 0.18), (-1.0, -0.2), (-0.85, -0.36), (-0.3, -0.36), (-0.15, -0.18),
                   (-0.15, 0.18))
    shapes.append(_Shape('engine', engine, colour))
    shapes.append(_Shape('engine', _rect(-0.8, -0.1, -0.45, 0.05), _shade(colour, 0.6)))
    handle = _ellipse(-0.55, -0.36, 0.38, rng.uniform(0.24, 0.32), 14, np.pi, 2 * np.pi)
    shapes.append(_Shape('handle', handle, dark, 'line', 0.07))
    shapes.append(_Shape('handle', _poly((-0.14, -0.12), (-0.1, -0.55)), dark, 'line', 0.06))
    return shapes


def _golf_ball(rng):
    """A white dimpled ball (part 'ball'), on a tee (part 'tee') 60% of the time."""
    white = _jitter(rng, (242, 242, 238), 10)
    dimple = _shade(white, rng.uniform(0.72, 0.82))
    shapes = [_Shape('ball', _ellipse(0, 0, 1, 1, 32), white)]
    step = rng.uniform(0.26, 0.32)
    off = rng.uniform(0, step, 2)
    for row, y in enumerate(np.arange(-1 + off[1], 1, step * 0.87)):
        for x in np.arange(-1 + off[0] + (step / 2) * (row % 2), 1, step):
            if x * x + y * y < 0.78 ** 2:
                shapes.append(_Shape('ball', _ellipse(x, y, 0.085, 0.085, 8), dimple))
    if rng.random() < 0.6:
        tee = _jitter(rng, _choice(rng, [(200, 160, 100), (220, 40, 40), (240, 220, 60),
                                         (250, 250, 250), (40, 120, 220)]), 15)
        h = rng.uniform(0.7, 1.0)
        shapes.insert(0, _Shape('tee', _poly((-0.45, 0.93), (0.45, 0.93), (0.1, 1.15),
                                             (0.07, 1.0 + h), (-0.07, 1.0 + h), (-0.1, 1.15)),
                                tee))
    return shapes


def _church(rng):
    """Nave with pitched roof, door and windows; tower, spire and cross."""
    wall = _jitter(rng, _choice(rng, [(225, 215, 190), (200, 200, 205), (180, 90, 70),
                                     (240, 240, 235)]), 15)
    roof = _jitter(rng, _choice(rng, [(90, 50, 40), (60, 60, 70), (150, 60, 40)]), 15)
    tw = rng.uniform(0.3, 0.42)
    th = rng.uniform(1.0, 1.25)
    sh = rng.uniform(0.6, 0.9)
    nave_top = rng.uniform(0.35, 0.5)
    shapes = [_Shape('building', _rect(-1.0, -nave_top, 0.3, 0.5), wall),
              _Shape('building', _poly((-1.05, -nave_top), (0.3, -nave_top),
                                       (0.3, -nave_top - 0.38), (-0.85, -nave_top - 0.38)),
                     roof)]
    window = _jitter(rng, (70, 90, 130), 20)
    for x in np.linspace(-0.8, 0.05, 3 + int(rng.integers(0, 2))):
        shapes.append(_Shape('building', np.concatenate(
            [_poly((x - 0.06, 0.25), (x - 0.06, -0.1)),
             _ellipse(x, -0.1, 0.06, 0.07, 7, np.pi, 2 * np.pi), _poly((x + 0.06, 0.25))]),
            window))
    shapes.append(_Shape('tower', _rect(0.3, -th, 0.3 + tw, 0.5), _shade(wall, 0.92)))
    cx = 0.3 + tw / 2
    shapes.append(_Shape('tower', np.concatenate(
        [_poly((cx - 0.08, 0.5), (cx - 0.08, 0.25)),
         _ellipse(cx, 0.25, 0.08, 0.08, 7, np.pi, 2 * np.pi), _poly((cx + 0.08, 0.5))]),
        _jitter(rng, (90, 55, 30), 15)))
    shapes.append(_Shape('tower', _ellipse(cx, -th + 0.25, 0.07, 0.07, 10), window))
    shapes.append(_Shape('spire', _poly((0.27, -th), (0.33 + tw, -th), (cx, -th - sh)), roof))
    gold = _jitter(rng, (210, 180, 60), 25)
    top = -th - sh
    shapes.append(_Shape('cross', _rect(cx - 0.03, top - 0.32, cx + 0.03, top + 0.02), gold))
    shapes.append(_Shape('cross', _rect(cx - 0.11, top - 0.24, cx + 0.11, top - 0.18), gold))
    return shapes


def _parachute(rng):
    """Striped canopy dome, suspension lines and a small figure."""
    colours = [_jitter(rng, _choice(rng, [(230, 40, 40), (250, 200, 30), (40, 90, 220),
                                          (250, 250, 250), (240, 120, 20), (40, 170, 80)]), 20)
               for _ in range(2)]
    n = int(rng.integers(5, 8))
    h = rng.uniform(0.55, 0.75)
    shapes = []
    edges = np.linspace(np.pi, 2 * np.pi, n + 1)
    for k in range(n):
        arc = _ellipse(0, 0, 1, h, 6, edges[k], edges[k + 1])
        gore = np.concatenate([arc, [(np.cos(edges[k + 1]), 0.12), (np.cos(edges[k]), 0.12)]])
        shapes.append(_Shape('canopy', gore, colours[k % 2]))
    fy = rng.uniform(1.0, 1.25)
    dark = _jitter(rng, (40, 40, 45), 15)
    for x in np.linspace(-0.95, 0.95, 4):
        shapes.append(_Shape('lines', _poly((x, 0.12), (np.sign(x) * 0.07, fy)), dark,
                             'line', 0.02))
    suit = _jitter(rng, _choice(rng, [(40, 40, 45), (200, 60, 40), (60, 80, 160)]), 20)
    shapes += [_Shape('figure', _ellipse(0, fy - 0.07, 0.08, 0.08, 10),
                      _jitter(rng, (225, 185, 150), 15)),
               _Shape('figure', _rect(-0.09, fy, 0.09, fy + 0.3), suit),
               _Shape('figure', _poly((-0.06, fy + 0.3), (-0.12, fy + 0.55)), suit, 'line', 0.07),
               _Shape('figure', _poly((0.06, fy + 0.3), (0.12, fy + 0.55)), suit, 'line', 0.07)]
    return shapes


def _fish(rng):
    """Elliptic body (maybe spotted), tail fin, dorsal fin and an eye."""
    colour = _jitter(rng, _choice(rng, [(240, 140, 30), (240, 210, 50), (60, 110, 200),
                                       (170, 175, 185), (80, 160, 90), (200, 60, 60)]), 25)
    fin = _shade(colour, rng.uniform(0.6, 0.8))
    ry = rng.uniform(0.28, 0.4)
    tail_h = rng.uniform(0.3, 0.45)
    shapes = [_Shape('tail', _poly((-0.5, 0), (-1.0, -tail_h), (-0.88, 0), (-1.0, tail_h)), fin),
              _Shape('fin', _poly((-0.3, -ry * 0.8), (-0.05, -ry - 0.22), (0.2, -ry * 0.85)), fin),
              _Shape('body', _ellipse(0, 0, 0.72, ry, 28), colour)]
    if rng.random() < 0.5:
        spot = _shade(colour, 0.7)
        for x in np.linspace(-0.4, 0.15, 3):
            shapes.append(_Shape('body', _ellipse(x, rng.uniform(-0.1, 0.1), 0.06, 0.06, 8), spot))
    ex = rng.uniform(0.38, 0.48)
    shapes.append(_Shape('eye', _ellipse(ex, -0.1, 0.085, 0.085, 12), (245, 245, 245)))
    shapes.append(_Shape('eye', _ellipse(ex + 0.02, -0.1, 0.045, 0.045, 8), (15, 15, 15)))
    return shapes


_DRAW = {   # class index -> f(object rng, detail rng) -> list of _Shape
    0: lambda rng, detail: _starfish(rng),
    1: lambda rng, detail: _car(rng, detail, convertible=False),
    2: lambda rng, detail: _car(rng, detail, convertible=True),
    3: lambda rng, detail: _truck(rng, detail, van=False),
    4: lambda rng, detail: _truck(rng, detail, van=True),
    5: lambda rng, detail: _chain_saw(rng),
    6: lambda rng, detail: _golf_ball(rng),
    7: lambda rng, detail: _church(rng),
    8: lambda rng, detail: _parachute(rng),
    9: lambda rng, detail: _fish(rng),
}
TWINS = {1: 2, 2: 1, 3: 4, 4: 3}
"""Class pairs drawn from one shared distribution, differing only in one region."""

# (min, max) scale in pixels per object unit, and max |rotation| in degrees
_POSE = {0: ((13, 21), 180), 1: ((19, 28), 5), 2: ((19, 28), 5), 3: ((16, 26), 5),
         4: ((16, 26), 5), 5: ((16, 26), 25), 6: ((9, 16), 0), 7: ((13, 19), 5),
         8: ((14, 20), 15), 9: ((17, 27), 20)}


# ---------------------------------------------------------------------------
# Pose and rasterisation
# ---------------------------------------------------------------------------
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
    moved = [_Shape(sh.part, sh.points @ rot.T, sh.colour, sh.kind, sh.width) for sh in shapes]
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
        pts = _rect(-size, -size * rng.uniform(0.3, 1), size, size * rng.uniform(0.3, 1))
    elif kind == 1:
        angles = np.sort(rng.uniform(0, 2 * np.pi, 3))
        pts = np.stack([np.cos(angles), np.sin(angles)], 1) * size
    else:
        pts = _poly((-size, 0), (size * 0.3, rng.uniform(-1, 1) * size),
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
    shapes = _DRAW[class_index](rng_obj, rng_detail)
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


# ---------------------------------------------------------------------------
# The surrogate model
# ---------------------------------------------------------------------------
def record_path(weights_path):
    """The JSON record that belongs to a weight file (same name, ``.json``)."""
    return os.path.splitext(weights_path)[0] + '.json'


def surrogate_record(path=None):
    """The training record of the surrogate model.

    Args:
        path: the weight file (default ``models/surrogate.h5``) or its ``.json``.
    Returns:
        dict read from the JSON record (seed, epochs, data sizes, widths, dense,
        held-out accuracy overall and per class, wall time, command, versions).
    Raises:
        ValueError: no record found.
    """
    path = record_path(path or SURROGATE_PATH)
    if not os.path.exists(path):
        raise ValueError('no surrogate record at %s: train the surrogate with '
                         '`make surrogate` (python -m synthetic_world.train_surrogate)' % path)
    with open(path, encoding='utf8') as f:
        return json.load(f)


def build_surrogate(widths=SURROGATE_WIDTHS, dense=SURROGATE_DENSE,
                    kernel_initializer='glorot_uniform', n_classes=len(CLASS_NAMES)):
    """The surrogate's architecture: the course's VGG16 layout on 64x64 inputs.

    Args:
        widths: channels of the five convolution blocks.
        dense: units of the two hidden dense layers.
        kernel_initializer: Keras initializer name.
        n_classes: output units (10 objects; 3 background kinds for the second surrogate).
    Returns:
        an uncompiled ``keras.models.Sequential`` (37 layers, linear scores).
    """
    import models
    return models.VGG_16(None, input_shape=(3, IMAGE_SIZE, IMAGE_SIZE), widths=tuple(widths),
                         dense=int(dense), n_classes=int(n_classes),
                         kernel_initializer=kernel_initializer)


def load_surrogate(path=None):
    """The trained surrogate model (inputs: ``models.preprocess(images, size=64)``).

    Args:
        path: weight file (default ``models/surrogate.h5``). Widths and dense units
            come from its JSON record when there is one, else
            :data:`SURROGATE_WIDTHS` / :data:`SURROGATE_DENSE`.
    Returns:
        the Keras model with its weights loaded.
    Raises:
        models.WeightFileError: missing or unfitting weight file.
    """
    import models
    path = path or SURROGATE_PATH
    widths, dense, n_classes = SURROGATE_WIDTHS, SURROGATE_DENSE, len(CLASS_NAMES)
    if os.path.exists(record_path(path)):
        rec = surrogate_record(path)
        widths, dense = tuple(rec.get('widths', widths)), rec.get('dense', dense)
        n_classes = len(rec.get('class_names', CLASS_NAMES))
    model = build_surrogate(widths, dense, n_classes=n_classes)
    models.load_weights(model, path)
    return model


def predict_scores(model, images, batch_size=100):
    """Linear class scores of uint8 RGB images.

    Args:
        model: a surrogate model.
        images: uint8 (N, 64, 64, 3).
        batch_size: images per forward pass.
    Returns:
        float32 (N, n_classes).
    """
    import models
    out = [model.predict(models.preprocess(images[i:i + batch_size], size=IMAGE_SIZE),
                         batch_size=batch_size)
           for i in range(0, len(images), batch_size)]
    return (np.concatenate(out) if out
            else np.zeros((0, int(model.output_shape[-1])), np.float32))


def heldout_accuracy(model, n_per_class=100, seed=0, task='object'):
    """Accuracy of ``model`` on the 'heldout' split, overall and per class.

    Args:
        model: a surrogate model.
        n_per_class: held-out images per object class (for either task).
        seed: world seed of the held-out images.
        task: 'object' (labels: the object's class) or 'background' (its kind).
    Returns:
        dict with 'overall' (float), 'per_class' (label name -> float) and
        'confusion' (list of counts, rows = true label).
    """
    names = TASKS[check_task(task)]
    images, labels = generate_dataset(range(len(CLASS_NAMES)), n_per_class, 'heldout', seed,
                                      task=task)
    pred = predict_scores(model, images).argmax(axis=1)
    confusion = np.zeros((len(names),) * 2, dtype=int)
    np.add.at(confusion, (labels, pred), 1)
    per_class = {name: float(confusion[i, i] / max(1, confusion[i].sum()))
                 for i, name in enumerate(names)}
    return {'overall': float(np.mean(pred == labels)), 'per_class': per_class,
            'confusion': confusion.tolist()}
