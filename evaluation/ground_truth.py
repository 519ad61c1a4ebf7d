"""Checking explanations against ground truth in the synthetic world.

* **Localisation ratio** of an attribution map to a part mask: the share of positive
  attribution mass that falls inside the mask, divided by the mask's share of the
  image. 1 is chance; higher means the explanation points at the part.
* **Model randomisation** (Adebayo et al. 2018, "Sanity checks for saliency maps"):
  re-initialising the top layers must change the explanations; we report the Spearman
  rank correlation of the attribution maps before and after.

``python -m evaluation.ground_truth`` (``make ground-truth``) prints the numbers for the committed
surrogate model.
"""
import hw3_env  # noqa: F401

import numpy as np

import models

K = hw3_env.setup()


RANDOMIZED_LAYERS = 3
"""How many weighted layers, from the top, the randomisation check re-initialises."""


def pixel_mass(attribution):
    """Positive attribution per pixel: max(0, sum over colour channels), (H, W)."""
    a = np.asarray(attribution, dtype=np.float64)
    if a.ndim == 3:
        a = a.sum(axis=0)
    if a.ndim != 2:
        raise ValueError("attribution must be (3, H, W) or (H, W), got %r" % (a.shape,))
    return np.maximum(a, 0)


def localisation_ratio(attribution, mask):
    """(positive mass inside ``mask`` / all positive mass) / (mask area / image area).

    Args:
        attribution: pixel attribution (3, H, W) or an (H, W) map.
        mask: bool (H, W).
    Returns:
        float; nan when there is no positive mass or the mask is empty.
    """
    mass = pixel_mass(attribution)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != mass.shape:
        raise ValueError("mask %r and attribution map %r differ in shape"
                         % (mask.shape, mass.shape))
    total, share = mass.sum(), mask.mean()
    if total <= 0 or share == 0:
        return float("nan")
    return float(mass[mask].sum() / total / share)


def mean_localisation(attributions, masks):
    """Mean localisation ratio over a batch (N, 3, H, W) with masks (N, H, W)."""
    return float(np.nanmean([localisation_ratio(a, m) for a, m in zip(attributions, masks)]))


def randomized_copy(model, n_layers, seed=0):
    """A copy of ``model`` whose top ``n_layers`` weighted layers are re-initialised
    (He-normal kernels, zero biases): the cascading randomisation of Adebayo et al."""
    from keras.models import Sequential
    copy = Sequential.from_config(model.get_config())
    copy.set_weights(model.get_weights())
    rng = np.random.RandomState(seed)
    weighted = [l for l in copy.layers if l.weights]
    if not 1 <= n_layers <= len(weighted):
        raise ValueError("n_layers must be in 1..%d, got %r" % (len(weighted), n_layers))
    for layer in weighted[-n_layers:]:
        kernel, bias = layer.get_weights()
        fan_in = int(np.prod(kernel.shape[:-1]))
        layer.set_weights([(rng.randn(*kernel.shape) * np.sqrt(2.0 / fan_in)).astype(np.float32),
                           np.zeros_like(bias)])
    return copy


def rank_correlation(a, b, absolute=False):
    """Spearman rank correlation of two pixel attribution maps (summed over colour
    channels), signed or of the magnitudes (Adebayo et al. report both)."""
    from scipy.stats import spearmanr
    ma, mb = (np.asarray(v, dtype=np.float64) for v in (a, b))
    if ma.ndim == 3:
        ma, mb = ma.sum(0), mb.sum(0)
    if absolute:
        ma, mb = np.abs(ma), np.abs(mb)
    return float(spearmanr(ma.ravel(), mb.ravel()).correlation)


def report(world=None, n=20, steps=32, randomized_layers=RANDOMIZED_LAYERS, verbose=True):
    """The synthetic world's ground-truth numbers (held-out images).

    Returns:
        dict with 'ig_object_ratio' (pixel IG toward the true class vs the object
        mask), 'roof_neuron', 'roof_ratio' (top conv4_1 neuron of the comparative
        sports car vs convertible class explanation over sports cars and
        convertibles, drawn on held-out sports cars, vs the roof mask) and
        'randomized_rank_corr' (Spearman correlation of the signed IG maps after
        randomising the top ``randomized_layers`` weighted layers vs before) and
        'randomized_rank_corr_abs' (the same for their magnitudes).
    """
    from AumannShapley import AumannShapley
    from Explanation import Explanation, top_neurons
    import test_data
    world = world or test_data.load_world("synthetic")
    model = world.model()
    method = AumannShapley(resolution=steps)
    expl = Explanation(model, method)
    out = {}
    ratios = []
    for cls in range(len(world.class_names)):
        images, masks = _heldout(cls, n)
        d = expl.for_input().absolute(cls).explain(world.preprocess(images))
        ratios.append(mean_localisation(d.attribution, masks["object"]))
    out["ig_object_ratio"] = float(np.mean(ratios))

    sc, cv = world.classes["sports_car"], world.classes["convertible"]
    cars = np.concatenate([world.preprocess(world.image_set(role, limit=n).images)
                           for role in ("sports_cars", "convertibles")])
    comp = expl.for_layer(models.CONV4_1).comparative(sc, cv).explain_class(cars)
    neuron = int(top_neurons(comp.attribution, k=1)[0][0])
    images, masks = _heldout(sc, n)
    d = expl.for_input().for_neurons(models.CONV4_1, [neuron]).explain(world.preprocess(images))
    out["roof_neuron"] = neuron
    out["roof_ratio"] = mean_localisation(d.attribution, masks["roof"])

    x = world.preprocess(images[:8])
    before = expl.for_input().absolute(sc).explain(x).attribution
    rnd = Explanation(randomized_copy(model, randomized_layers), AumannShapley(resolution=steps))
    after = rnd.for_input().absolute(sc).explain(x).attribution
    out["randomized_rank_corr"] = float(np.mean([rank_correlation(a, b)
                                                 for a, b in zip(before, after)]))
    # Magnitudes stay more alike: IG multiplies by (x - x'), which keeps the image's
    # edges whatever the weights (Adebayo et al. saw the same for gradient x input).
    out["randomized_rank_corr_abs"] = float(np.mean([rank_correlation(a, b, absolute=True)
                                                     for a, b in zip(before, after)]))
    if verbose:
        for k, v in out.items():
            print("%-22s %s" % (k, v if isinstance(v, int) else "%.3f" % v))
    return out


def _heldout(cls, n):
    """(images, masks) of ``n`` held-out synthetic images of class ``cls``."""
    from synthetic_world import scenes as synthetic
    images, _, masks = synthetic.heldout_scenes(n, [cls])
    return images, masks


if __name__ == "__main__":
    report()
