"""The objects of the synthetic world's ten classes, drawn as primitives in object
coordinates (x right, y down; the object faces right).

Each class's drawing function takes the object's random stream (geometry, shared
colours) and the detail stream (what tells twin classes apart: the sports car's
closed roof or the convertible's open top, the van's cargo box or the pickup's open
bed), and returns :class:`Shape` primitives tagged with the part they paint (see
:data:`synthetic_world.scenes.PARTS`). Posing, rasterising and painting them into a
scene is :mod:`synthetic_world.scenes`' work.
"""
import numpy as np


def ellipse(cx, cy, rx, ry, n=24, start=0.0, stop=2 * np.pi):
    """Points of an ellipse (or of an arc of it when start/stop are given)."""
    t = np.linspace(start, stop, n, endpoint=(stop - start) < 2 * np.pi - 1e-9)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def rect(x0, y0, x1, y1):
    return np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], dtype=float)


def poly(*points):
    return np.array(points, dtype=float)


def _jitter(rng, colour, amount=20):
    """A colour near ``colour`` (each channel +-amount), as a tuple of ints."""
    c = np.asarray(colour, dtype=float) + rng.uniform(-amount, amount, 3)
    return tuple(int(v) for v in np.clip(np.round(c), 0, 255))


def _choice(rng, options):
    return options[int(rng.integers(len(options)))]


def _shade(colour, factor):
    return tuple(int(np.clip(round(c * factor), 0, 255)) for c in colour)


class Shape:
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
        shapes.append(Shape('wheels', ellipse(x, y, r, r, 20), tyre))
        shapes.append(Shape('wheels', ellipse(x, y, 0.5 * r, 0.5 * r, 14), hub))
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
        'cabin': poly((xr, -hb), (xrt, -hb - hc), (xft, -hb - hc), (xf, -hb)),
        'wheel_x': (-0.62 + rng.uniform(-0.05, 0.05), 0.62 + rng.uniform(-0.05, 0.05)),
        'wheel_r': rng.uniform(0.16, 0.21),
        'colour': _jitter(rng, _choice(rng, CAR_COLOURS), 25),
        'glass': _jitter(rng, GLASS, 25),
    }


def _car_body(rng, g):
    """Low sleek body with head- and tail-light (part 'body')."""
    hb, c = g['hb'], g['colour']
    body = poly((-1.0, 0.07), (-1.0, -0.72 * hb), (-0.9, -hb), (g['xf'] + 0.06, -hb),
                 (0.55, -0.72 * hb), (0.96, -0.45 * hb), (1.0, -0.12 * hb), (0.98, 0.07))
    return [Shape('body', body, c),
            Shape('body', rect(0.9, -0.42 * hb, 0.99, -0.24 * hb),
                   _jitter(rng, (250, 240, 170), 5)),
            Shape('body', rect(-1.0, -0.62 * hb, -0.93, -0.42 * hb),
                   _jitter(rng, (200, 20, 20), 10))]


def _closed_roof(g):
    """The sports car's cabin: solid roof in body colour with two side windows."""
    hb, hc = g['hb'], g['hc']
    top, bottom = -hb - 0.68 * hc, -hb - 0.12 * hc
    fr = lambda y: g['xr'] + (g['xrt'] - g['xr']) * (-hb - y) / hc   # rear edge at y
    ff = lambda y: g['xf'] + (g['xft'] - g['xf']) * (-hb - y) / hc   # front edge at y
    pillar = 0.5 * (g['xrt'] + g['xft'])
    rear = poly((fr(bottom) + 0.07, bottom), (fr(top) + 0.06, top), (pillar - 0.03, top),
                 (pillar - 0.03, bottom))
    front = poly((pillar + 0.03, bottom), (pillar + 0.03, top), (ff(top) - 0.05, top),
                  (ff(bottom) - 0.07, bottom))
    return [Shape('roof', g['cabin'], g['colour']),
            Shape('roof', rear, g['glass'], inside='roof'),
            Shape('roof', front, g['glass'], inside='roof')]


def _open_top(rng, g):
    """The convertible's open top: a windshield and one or two seats with headrests,
    all inside the cabin region (which becomes the 'roof' region mask)."""
    hb, hc = g['hb'], g['hc']
    h = rng.uniform(0.6, 0.75) * hc
    t = h / hc
    xf_top = g['xf'] + (g['xft'] - g['xf']) * t
    shield = poly((g['xf'], -hb), (xf_top, -hb - h), (xf_top - 0.06, -hb - h),
                   (g['xf'] - 0.07, -hb))
    seat = _jitter(rng, _choice(rng, [(30, 30, 30), (200, 170, 120), (150, 30, 30),
                                     (100, 60, 35), (235, 225, 200)]), 15)
    shapes = [Shape('roof', g['cabin'], None),
              Shape('windshield', shield, g['glass'], inside='roof')]
    lo, hi = g['xrt'] + 0.04, xf_top - 0.22
    n_seats = 1 if hi - lo < 0.3 else int(rng.integers(1, 3))
    for k in range(n_seats):
        x = hi - k * rng.uniform(0.26, 0.32) - rng.uniform(0.0, 0.04)
        x = max(x, lo)
        sh = rng.uniform(0.35, 0.45) * hc
        back = poly((x, -hb), (x - 0.05, -hb - sh), (x + 0.05, -hb - sh), (x + 0.11, -hb))
        rest = ellipse(x, -hb - sh - 0.09 * hc, 0.065, 0.11 * hc, 12)
        shapes += [Shape('seats', back, seat, inside='roof'),
                   Shape('seats', rest, _shade(seat, 0.85), inside='roof')]
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
        'cargo': rect(-1.0, -hc - rng.uniform(0.0, 0.12), x0 - 0.04, 0.08),
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
    cab = poly((x0, 0.08), (x0, -hc), (xw, -hc), (xh, -hood), (1.0, -hood + 0.03),
                (1.0, 0.08))
    window = poly((x0 + 0.06, -hc + 0.07), (xw - 0.01, -hc + 0.07),
                   (xh - 0.07, -hood - 0.04), (x0 + 0.06, -hood - 0.04))
    light = rect(0.92, -hood + 0.06, 0.995, -hood + 0.14)
    return [Shape('cab', cab, g['colour']), Shape('cab', window, g['glass']),
            Shape('cab', light, _jitter(rng, (250, 240, 170), 5))]


def _open_bed(rng, g):
    """The pickup's open bed: low side wall, the far wall's darker inner face above
    it, a rim and a tailgate (part 'open_bed'); the cargo region is 'bed'."""
    (xa, top), (xb, bottom) = g['cargo'][0], g['cargo'][2]
    wall = rng.uniform(0.3, 0.38)
    c = g['colour']
    inner = poly((xa + 0.05, bottom - wall), (xa + 0.1, bottom - wall - 0.11),
                  (xb - 0.02, bottom - wall - 0.11), (xb - 0.02, bottom - wall))
    rim = rect(xa, bottom - wall - 0.04, xb, bottom - wall + 0.02)
    return [Shape('bed', g['cargo'], None),
            Shape('open_bed', inner, _shade(c, 0.45), inside='bed'),
            Shape('open_bed', rect(xa, bottom - wall, xb, bottom), c, inside='bed'),
            Shape('open_bed', rim, _jitter(rng, (190, 190, 195), 25), inside='bed'),
            Shape('open_bed', rect(xa, bottom - wall, xa + 0.05, bottom), _shade(c, 0.75),
                   inside='bed')]


def _box(rng, g):
    """The van's closed tall cargo box with a stripe and a door seam (part 'bed')."""
    (xa, top), (xb, bottom) = g['cargo'][0], g['cargo'][2]
    colour = g['colour'] if rng.random() < 0.5 else _jitter(rng, (232, 232, 228), 18)
    y = top + rng.uniform(0.35, 0.6) * (bottom - top)
    stripe = rect(xa, y, xb, y + 0.06)
    seam = rect(xa + 0.1, top + 0.05, xa + 0.13, bottom - 0.05)
    return [Shape('bed', g['cargo'], colour),
            Shape('bed', stripe, _jitter(rng, _choice(rng, CAR_COLOURS), 25), inside='bed'),
            Shape('bed', seam, _shade(colour, 0.7), inside='bed')]


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
    shapes = [Shape('arms', poly(*pts), colour)]
    bump = _shade(colour, 1.3) if sum(colour) < 500 else _shade(colour, 0.75)
    for k in range(5):
        a = phase + 2 * np.pi * k / 5
        for r in (0.45, 0.62, 0.78)[:int(rng.integers(2, 4))]:
            shapes.append(Shape('arms', ellipse(r * np.cos(a), r * np.sin(a), 0.045, 0.045, 8),
                                 bump))
    c = 0.55 * inner
    shapes.append(Shape('center', ellipse(0, 0, c, c, 16), _shade(colour, 0.8)))
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
    bar = np.concatenate([poly((-0.25, -bar_h), (x1 - bar_h, -bar_h)),
                          ellipse(x1 - bar_h, 0, bar_h, bar_h, 10, -np.pi / 2, np.pi / 2),
                          poly((-0.25, bar_h))])
    shapes = [Shape('bar', bar, steel)]
    n = int(bar_len / 0.09)
    for k in range(n):
        x = -0.18 + k * (x1 - bar_h - (-0.18)) / n
        shapes.append(Shape('teeth', poly((x, -bar_h), (x + 0.045, -bar_h - 0.07),
                                            (x + 0.08, -bar_h)), dark))
        shapes.append(Shape('teeth', poly((x, bar_h), (x + 0.045, bar_h + 0.07),
                                            (x + 0.08, bar_h)), dark))
    engine = poly((-1.0, 0.18), (-1.0, -0.2), (-0.85, -0.36), (-0.3, -0.36), (-0.15, -0.18),
                   (-0.15, 0.18))
    shapes.append(Shape('engine', engine, colour))
    shapes.append(Shape('engine', rect(-0.8, -0.1, -0.45, 0.05), _shade(colour, 0.6)))
    handle = ellipse(-0.55, -0.36, 0.38, rng.uniform(0.24, 0.32), 14, np.pi, 2 * np.pi)
    shapes.append(Shape('handle', handle, dark, 'line', 0.07))
    shapes.append(Shape('handle', poly((-0.14, -0.12), (-0.1, -0.55)), dark, 'line', 0.06))
    return shapes


def _golf_ball(rng):
    """A white dimpled ball (part 'ball'), on a tee (part 'tee') 60% of the time."""
    white = _jitter(rng, (242, 242, 238), 10)
    dimple = _shade(white, rng.uniform(0.72, 0.82))
    shapes = [Shape('ball', ellipse(0, 0, 1, 1, 32), white)]
    step = rng.uniform(0.26, 0.32)
    off = rng.uniform(0, step, 2)
    for row, y in enumerate(np.arange(-1 + off[1], 1, step * 0.87)):
        for x in np.arange(-1 + off[0] + (step / 2) * (row % 2), 1, step):
            if x * x + y * y < 0.78 ** 2:
                shapes.append(Shape('ball', ellipse(x, y, 0.085, 0.085, 8), dimple))
    if rng.random() < 0.6:
        tee = _jitter(rng, _choice(rng, [(200, 160, 100), (220, 40, 40), (240, 220, 60),
                                         (250, 250, 250), (40, 120, 220)]), 15)
        h = rng.uniform(0.7, 1.0)
        shapes.insert(0, Shape('tee', poly((-0.45, 0.93), (0.45, 0.93), (0.1, 1.15),
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
    shapes = [Shape('building', rect(-1.0, -nave_top, 0.3, 0.5), wall),
              Shape('building', poly((-1.05, -nave_top), (0.3, -nave_top),
                                       (0.3, -nave_top - 0.38), (-0.85, -nave_top - 0.38)),
                     roof)]
    window = _jitter(rng, (70, 90, 130), 20)
    for x in np.linspace(-0.8, 0.05, 3 + int(rng.integers(0, 2))):
        shapes.append(Shape('building', np.concatenate(
            [poly((x - 0.06, 0.25), (x - 0.06, -0.1)),
             ellipse(x, -0.1, 0.06, 0.07, 7, np.pi, 2 * np.pi), poly((x + 0.06, 0.25))]),
            window))
    shapes.append(Shape('tower', rect(0.3, -th, 0.3 + tw, 0.5), _shade(wall, 0.92)))
    cx = 0.3 + tw / 2
    shapes.append(Shape('tower', np.concatenate(
        [poly((cx - 0.08, 0.5), (cx - 0.08, 0.25)),
         ellipse(cx, 0.25, 0.08, 0.08, 7, np.pi, 2 * np.pi), poly((cx + 0.08, 0.5))]),
        _jitter(rng, (90, 55, 30), 15)))
    shapes.append(Shape('tower', ellipse(cx, -th + 0.25, 0.07, 0.07, 10), window))
    shapes.append(Shape('spire', poly((0.27, -th), (0.33 + tw, -th), (cx, -th - sh)), roof))
    gold = _jitter(rng, (210, 180, 60), 25)
    top = -th - sh
    shapes.append(Shape('cross', rect(cx - 0.03, top - 0.32, cx + 0.03, top + 0.02), gold))
    shapes.append(Shape('cross', rect(cx - 0.11, top - 0.24, cx + 0.11, top - 0.18), gold))
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
        arc = ellipse(0, 0, 1, h, 6, edges[k], edges[k + 1])
        gore = np.concatenate([arc, [(np.cos(edges[k + 1]), 0.12), (np.cos(edges[k]), 0.12)]])
        shapes.append(Shape('canopy', gore, colours[k % 2]))
    fy = rng.uniform(1.0, 1.25)
    dark = _jitter(rng, (40, 40, 45), 15)
    for x in np.linspace(-0.95, 0.95, 4):
        shapes.append(Shape('lines', poly((x, 0.12), (np.sign(x) * 0.07, fy)), dark,
                             'line', 0.02))
    suit = _jitter(rng, _choice(rng, [(40, 40, 45), (200, 60, 40), (60, 80, 160)]), 20)
    shapes += [Shape('figure', ellipse(0, fy - 0.07, 0.08, 0.08, 10),
                      _jitter(rng, (225, 185, 150), 15)),
               Shape('figure', rect(-0.09, fy, 0.09, fy + 0.3), suit),
               Shape('figure', poly((-0.06, fy + 0.3), (-0.12, fy + 0.55)), suit, 'line', 0.07),
               Shape('figure', poly((0.06, fy + 0.3), (0.12, fy + 0.55)), suit, 'line', 0.07)]
    return shapes


def _fish(rng):
    """Elliptic body (maybe spotted), tail fin, dorsal fin and an eye."""
    colour = _jitter(rng, _choice(rng, [(240, 140, 30), (240, 210, 50), (60, 110, 200),
                                       (170, 175, 185), (80, 160, 90), (200, 60, 60)]), 25)
    fin = _shade(colour, rng.uniform(0.6, 0.8))
    ry = rng.uniform(0.28, 0.4)
    tail_h = rng.uniform(0.3, 0.45)
    shapes = [Shape('tail', poly((-0.5, 0), (-1.0, -tail_h), (-0.88, 0), (-1.0, tail_h)), fin),
              Shape('fin', poly((-0.3, -ry * 0.8), (-0.05, -ry - 0.22), (0.2, -ry * 0.85)), fin),
              Shape('body', ellipse(0, 0, 0.72, ry, 28), colour)]
    if rng.random() < 0.5:
        spot = _shade(colour, 0.7)
        for x in np.linspace(-0.4, 0.15, 3):
            shapes.append(Shape('body', ellipse(x, rng.uniform(-0.1, 0.1), 0.06, 0.06, 8), spot))
    ex = rng.uniform(0.38, 0.48)
    shapes.append(Shape('eye', ellipse(ex, -0.1, 0.085, 0.085, 12), (245, 245, 245)))
    shapes.append(Shape('eye', ellipse(ex + 0.02, -0.1, 0.045, 0.045, 8), (15, 15, 15)))
    return shapes


_DRAW = {   # class index -> f(object rng, detail rng) -> list of Shape
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


def draw(class_index, rng, detail):
    """The object of one class as drawing primitives, in object coordinates.

    Args:
        class_index: index of the class (0..9, unchecked: the scene generator checks).
        rng: the object stream (shape, shared colours).
        detail: the class-specific stream (the twins' roof or cargo).
    Returns:
        list of :class:`Shape`, in painting order.
    """
    return _DRAW[class_index](rng, detail)


TWINS = {1: 2, 2: 1, 3: 4, 4: 3}
"""Class pairs drawn from one shared distribution, differing only in one region."""
