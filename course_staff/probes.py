"""What the grader runs in a tree (the reference, or a sandboxed submission): one probe
per question, each calling the question's functions on a small VGG-layout model built
here from the run's seed, and returning plain arrays. The checks that compare them with
the reference live in :mod:`course_staff.checks` and never run beside student code.

Each probe exercises its own question's functions only: the other questions' pieces
it needs (the slice halves h and g, the path integral, the per-instance explanation)
are the probe's own few lines (:class:`PathIntegral`, :func:`_trusted_h`, ...), patched
in where the student's code would call theirs, so one wrong function costs one question.

This file is copied into each sandbox and run as a script:
``python -I -S _hw3_probe.py SEED OUTDIR QUESTION...``; it writes ``OUTDIR/q.npz`` (or
``OUTDIR/q.err``) per question, in order.
"""
import os
import sys
import traceback

TINY_INPUT = (3, 32, 32)
TINY_WIDTHS = (2, 4, 4, 8, 8)
TINY_DENSE = 16
N_CLASSES = 5
N_IMAGES = 3
STEPS = 8
SLICE = 19            # conv4_1's output, the homework's slice (models.CONV4_1)
GT_IMAGES = 3         # synthetic-world images per class for the ground-truth checks
GT_STEPS = 8
GT_CLASSES = 5        # every other class of the ten


_MODEL = {}


def _setup(seed):
    """The run's model and inputs (built once per process), and a fresh random state
    for the question's own draws."""
    import numpy as np
    if seed not in _MODEL:
        _MODEL[seed] = _build(seed)
    model, x = _MODEL[seed]
    return model, x, np.random.RandomState(seed + 1)


def _build(seed):
    import hw3_env
    hw3_env.setup()
    import numpy as np
    import models
    model = models.VGG_16(input_shape=TINY_INPUT, widths=TINY_WIDTHS, dense=TINY_DENSE,
                          n_classes=N_CLASSES)
    rng = np.random.RandomState(seed)
    weights = []
    for w in model.get_weights():
        fan_in = int(np.prod(w.shape[:-1])) if w.ndim > 1 else 1
        scale = np.sqrt(2.0 / fan_in) if w.ndim > 1 else 0.1
        weights.append((scale * rng.randn(*w.shape)).astype(np.float32))
    model.set_weights(weights)
    x = rng.rand(N_IMAGES, *TINY_INPUT).astype(np.float32) * 2.0
    return model, x


class PathIntegral(object):
    """The probe's own right Riemann sum (IG eq. 3), used where a question needs a
    path integral that is not the one it grades. Same interface as AumannShapley."""

    def __init__(self, resolution=STEPS, points_per_call=8):
        self.resolution, self.points_per_call = resolution, points_per_call
        self.per_call = points_per_call      # the images per group of explain_class
        self._fns, self.current, self.recorded = {}, None, []

    def compile(self, Q, inpt, head=None):
        key = (Q, inpt)
        self._fns.setdefault(key, {})
        self.current = key
        self.recorded.append(key)
        return self

    def _function(self, which):
        """Compiled on first use: the gradient, or Q alone (half the compile time)."""
        import theano
        import theano.tensor as T
        fns = self._fns[self.current]
        if which not in fns:
            Q, inpt = self.current
            z = inpt.type("z")
            Qz = theano.clone(Q, replace={inpt: z})
            out = T.grad(Qz.sum(), z, disconnected_inputs="ignore") if which == "grad" else Qz
            fns[which] = theano.function([z], out, allow_input_downcast=True,
                                         on_unused_input="ignore")
        return fns[which]

    def gradient(self, z):
        return self._function("grad")(z)

    def quantity(self, z):
        return self._function("q")(z)

    def get_attributions(self, instances, baseline=None, return_convergence_delta=False,
                         progress=False):
        import numpy as np
        x = np.asarray(instances, dtype=np.float32)
        b = np.zeros_like(x) if baseline is None else np.broadcast_to(
            np.asarray(baseline, dtype=np.float32), x.shape)
        m = self.resolution
        avg = np.zeros(x.shape, dtype=np.float64)
        for k in range(1, m + 1):
            avg += self.gradient((b + (k / m) * (x - b)).astype(np.float32))
        attr = (avg / m * (x - b)).astype(np.float32)
        if return_convergence_delta:
            dq = self.quantity(x).astype(np.float64) - self.quantity(b).astype(np.float64)
            return attr, attr.reshape(len(x), -1).sum(1, dtype=np.float64) - dq
        return attr


_SLICES = {}


def _slice_functions(model, layer):
    """The probe's own h and g at ``layer`` (compiled once per model)."""
    if (id(model), layer) not in _SLICES:
        _SLICES[id(model), layer] = _compile_slice(model, layer)
    return _SLICES[id(model), layer]


def _compile_slice(model, layer):
    import theano
    v = model.layers[layer].input
    h = theano.function([model.input], v)
    z = v.type("z")
    g = theano.function([z], theano.clone(model.output, replace={v: z}))
    return h, g


def _trusted_halves(Explanation, model):
    """Replace the slice halves h and g of the student's ExplanationForLayer by the
    probe's (questions other than the slices one)."""
    import numpy as np

    def h(self, x, images_per_call=16):
        x = np.asarray(x, dtype=np.float32)
        return x if self.layer is None else _slice_functions(self.model, self.layer)[0](x)

    def g(self, z, images_per_call=16):
        return _slice_functions(self.model, self.layer)[1](np.asarray(z, dtype=np.float32))

    _patch(Explanation.ExplanationForLayer, "h", h)
    _patch(Explanation.ExplanationForLayer, "g", g)


_PATCHED = []


def _patch(cls, name, fn):
    """Replace ``cls.name`` for the current question (undone by :func:`main`)."""
    _PATCHED.append((cls, name, cls.__dict__.get(name)))
    setattr(cls, name, fn)


def _unpatch():
    while _PATCHED:
        cls, name, old = _PATCHED.pop()
        setattr(cls, name, old)


def _values(method, z):
    import numpy as np
    return np.asarray(method.quantity(np.asarray(z, dtype="float32")), dtype=np.float64)


# ---------------------------------------------------------------------------
# One probe per question (names as in course_staff.questions)
# ---------------------------------------------------------------------------
def probe_attributions(seed):
    import numpy as np
    from AumannShapley import AumannShapley
    model, x, rng = _setup(seed)
    c = int(rng.randint(N_CLASSES))
    Q = model.output[:, c]
    h, _ = _slice_functions(model, SLICE)
    z = h(x)
    base = (0.5 * rng.rand(*x.shape[1:])).astype(np.float32)
    out = {"class": np.array(c)}
    a = AumannShapley(resolution=STEPS).compile(Q, model.input)
    out["pixels"] = a.get_attributions(x)
    out["pixels_baseline"] = a.get_attributions(x, baseline=base)
    inf = AumannShapley(resolution=STEPS, ignore_difference_term=True).compile(Q, model.input)
    out["influence"] = inf.get_attributions(x)
    s = AumannShapley(resolution=STEPS).compile(Q, model.layers[SLICE].input)
    out["slice"] = s.get_attributions(z)
    # Q(z) - Q(z') for the completeness checks, computed by the probe itself
    ref = PathIntegral().compile(Q, model.input)
    out["dq_pixels"] = _values(ref, x) - _values(ref, np.zeros_like(x))
    out["dq_pixels_baseline"] = _values(ref, x) - _values(ref, np.broadcast_to(base, x.shape))
    ref_slice = PathIntegral().compile(Q, model.layers[SLICE].input)
    out["dq_slice"] = _values(ref_slice, z) - _values(ref_slice, np.zeros_like(z))
    out.update(_ground_truth_ig())
    return out


def _ground_truth_ig():
    """IG (the submission's AumannShapley) toward the true class on a few held-out
    synthetic scenes of every class: localisation ratio against the object masks."""
    import numpy as np
    from AumannShapley import AumannShapley
    import test_data
    from synthetic_world import scenes
    from evaluation.ground_truth import mean_localisation
    import theano
    import theano.tensor as T
    world = test_data.load_world("synthetic")
    model = world.model()
    n = len(world.class_names)
    # one compiled gradient for every class: Q = <w, scores>, w the class's indicator
    w = theano.shared(np.zeros(n, dtype=np.float32), name="gt_class")
    a = AumannShapley(resolution=GT_STEPS).compile(T.dot(model.output, w), model.input)
    ratios = []
    for cls in range(0, n, max(1, n // GT_CLASSES)):
        images, masks = scenes.generate(cls, GT_IMAGES, "heldout")
        w.set_value(np.eye(n, dtype=np.float32)[cls])
        ratios.append(mean_localisation(a.get_attributions(world.preprocess(images)),
                                        masks["object"]))
    return {"ig_object_ratio": np.array(np.mean(ratios))}


def _quantity_probe(seed, make):
    import numpy as np
    import Explanation
    model, x, rng = _setup(seed)
    h, g = _slice_functions(model, SLICE)
    z = h(x)
    c1, c2 = (int(v) for v in rng.choice(N_CLASSES, 2, replace=False))
    out = {"classes": np.array([c1, c2]), "scores": g(z)}
    method = PathIntegral()
    E = Explanation.Explanation(model, method)
    for name, slice_, points in (("slice", E.for_layer(SLICE), z), ("pixels", E.for_input(), x)):
        q = make(slice_, c1, c2)
        m = q.compiled()
        out[name] = _values(m, points)
        out[name + "_attribution"] = m.get_attributions(points)
    return out


def probe_absolute(seed):
    return _quantity_probe(seed, lambda s, c1, c2: s.absolute(c1))


def probe_comparative(seed):
    import numpy as np
    out = _quantity_probe(seed, lambda s, c1, c2: s.comparative(c1, c2))
    # linearity: attribution of s_c1 - s_c2 = attribution of s_c1 - attribution of s_c2
    model, x, _ = _setup(seed)
    h, _ = _slice_functions(model, SLICE)
    z = h(x)
    c1, c2 = (int(c) for c in out["classes"])
    parts = [PathIntegral().compile(model.output[:, c], model.layers[SLICE].input)
             .get_attributions(z) for c in (c1, c2)]
    out["slice_attribution_difference"] = parts[0] - parts[1]
    out.update(_ground_truth_roof())
    return out


def _ground_truth_roof():
    """The submission's comparative QoI (sports car vs convertible) explained over the
    synthetic cars at conv4_1 by the probe's path integral; its top neuron's pixel
    attribution on held-out sports cars against the true roof masks."""
    import numpy as np
    import Explanation
    import models
    import test_data
    from synthetic_world import scenes
    from evaluation.ground_truth import mean_localisation
    world = test_data.load_world("synthetic")
    model = world.model()
    sc, cv = world.classes["sports_car"], world.classes["convertible"]
    cars = np.concatenate([world.preprocess(world.image_set(role, limit=GT_IMAGES).images)
                           for role in ("sports_cars", "convertibles")])
    method = PathIntegral(GT_STEPS)
    E = Explanation.Explanation(model, method)
    m = E.for_layer(models.CONV4_1).comparative(sc, cv).compiled()
    h, _ = _slice_functions(model, models.CONV4_1)
    attr = m.get_attributions(h(cars)).mean(axis=0)
    neuron = int(np.argmax(attr.reshape(len(attr), -1).max(axis=1)))
    images, masks = scenes.generate(sc, GT_IMAGES, "heldout")
    channel = model.layers[models.CONV4_1].input[:, neuron].sum(axis=(1, 2))
    pix = PathIntegral(GT_STEPS).compile(channel, model.input)
    ratio = mean_localisation(pix.get_attributions(world.preprocess(images)), masks["roof"])
    return {"roof_neuron": np.array(neuron), "roof_ratio": np.array(ratio)}


def probe_slices(seed):
    import numpy as np
    import Explanation
    model, x, rng = _setup(seed)
    th, tg = _slice_functions(model, SLICE)
    c = int(rng.randint(N_CLASSES))
    E = Explanation.Explanation(model, PathIntegral())
    s = E.for_layer(SLICE)
    out = {"h": s.h(x), "g": s.g(th(x)), "pixels_h": E.for_input().h(x),
           "class": np.array(c)}
    data = s.for_quantity(lambda model: model.output[:, c]).explain(x)
    out["explain"] = data.attribution
    return out


def probe_class(seed):
    import numpy as np
    import Explanation
    model, x, rng = _setup(seed)
    c = int(rng.randint(N_CLASSES))
    _trusted_halves(Explanation, model)

    def explain(self, instances, baseline=None):   # the probe's per-instance explanation
        z = self.slice.h(instances)
        self._compile()
        attr, delta = self.method.get_attributions(z, baseline=baseline,
                                                   return_convergence_delta=True)
        return Explanation.ExplanationData(attr, instances, delta, "")
    _patch(Explanation.ExplanationForQuantity, "explain", explain)
    E = Explanation.Explanation(model, PathIntegral())
    q = E.for_layer(SLICE).for_quantity(lambda model: model.output[:, c])
    per_instance = explain(q, x).attribution
    return {"class": np.array(c), "explain_class": np.asarray(q.explain_class(x).attribution),
            "instances": per_instance}


def probe_top_neurons(seed):
    import numpy as np
    import Explanation
    rng = np.random.RandomState(seed)
    a = rng.randn(12, 5, 5).astype(np.float32)
    found = Explanation.top_neurons(a, k=4)
    indices = found[0] if isinstance(found, tuple) else found
    return {"attribution": a, "top": np.asarray(indices, dtype=np.int64).ravel()}


def probe_compress(seed):
    import numpy as np
    import Explanation
    import compression
    model, x, rng = _setup(seed)
    _trusted_halves(Explanation, model)
    s = Explanation.Explanation(model, PathIntegral()).for_layer(SLICE)
    z = s.h(x)
    channels = np.sort(rng.choice(z.shape[1], 3, replace=False))
    cm = compression.compress(s, channels)
    return {"channels": channels, "scores": np.asarray(cm.scores(z), dtype=np.float64),
            "predict": np.asarray(cm.predict(z), dtype=np.int64)}


def probe_recall_precision(seed):
    import numpy as np
    import compression
    rng = np.random.RandomState(seed)
    out = {}
    for i in range(3):
        p, t = rng.rand(20) < 0.5, rng.rand(20) < 0.4
        t[0] = p[0] = True
        out["recall%d" % i] = np.array(float(compression.recall(p, t)))
        out["precision%d" % i] = np.array(float(compression.precision(p, t)))
    return out


PROBES = {
    "q4_2_attributions": probe_attributions,
    "q5_1_absolute": probe_absolute,
    "q5_2_slices": probe_slices,
    "q5_2_class": probe_class,
    "q5_2_top_neurons": probe_top_neurons,
    "q6_1_comparative": probe_comparative,
    "q7_compress": probe_compress,
    "q7_recall_precision": probe_recall_precision,
}


def _save(path, arrays):
    import numpy as np
    clean = {k: np.asarray(v) for k, v in arrays.items()}
    with open(path + ".tmp", "wb") as f:
        np.savez(f, **clean)
    os.replace(path + ".tmp", path)


def main(argv):
    seed, outdir, questions = int(argv[0]), argv[1], argv[2:]
    import hw3_env   # the stack's import and set-up, timed apart from the questions
    hw3_env.setup()
    _setup(seed)     # the run's model, so every question costs the same after a restart
    open(os.path.join(outdir, "ready"), "w").close()
    for q in questions:
        open(os.path.join(outdir, q + ".started"), "w").close()
        try:
            _save(os.path.join(outdir, q + ".npz"), PROBES[q](seed))
        except BaseException:  # noqa: B036 (the question's own failure, reported)
            with open(os.path.join(outdir, q + ".err"), "w") as f:
                f.write(traceback.format_exc()[-4000:])
        finally:
            _unpatch()


if __name__ == "__main__":
    main(sys.argv[1:])
