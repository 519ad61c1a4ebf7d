"""Input checks shared by the Explanation chain, the homeworks' functions and Part IV.

Each check returns its input in the form the caller computes with (an array of the
right dtype, an int) or raises a ``ValueError`` that names what is wrong and how to
fix it. Checks that need the model read only its shapes (``model.input_shape``,
``model.output_shape``, ``model.layers``).
"""
import hw3_env  # noqa: F401  (must come before theano)

import numpy as np
import theano


# -- batches of points ------------------------------------------------------------------
def check_instances(instances, dtype=None):
    """A non-empty, finite, numeric batch (N, ...) as ``dtype`` (default floatX)."""
    x = np.asarray(instances)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError("instances must be a non-empty batch (N, ...), got shape %r"
                         % (x.shape,))
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError("instances must be numeric, got dtype %s" % x.dtype)
    x = x.astype(dtype or theano.config.floatX, copy=False)
    if not np.isfinite(x).all():
        raise ValueError("instances hold NaN or infinite values")
    return x


def check_inputs(model, x):
    """Preprocessed model inputs (N,) + input shape; one input (no batch axis) becomes
    a batch of one."""
    x = np.asarray(x)
    expected = tuple(model.input_shape[1:])
    if x.shape == expected:
        x = x[None]
    if x.ndim != len(expected) + 1 or tuple(x.shape[1:]) != expected:
        raise ValueError("instances must have shape (N,) + %r (preprocessed model inputs), "
                         "got %r; use models.preprocess(images, size=%d)"
                         % (expected, x.shape, expected[-1]))
    return check_instances(x)


def check_slice(slice_, z):
    """Activations (N,) + ``slice_.shape`` of a slice (an ``ExplanationForLayer``)."""
    z = np.asarray(z)
    if z.ndim != len(slice_.shape) + 1 or tuple(z.shape[1:]) != slice_.shape:
        raise ValueError("slice activations must have shape (N,) + %r, got %r"
                         % (slice_.shape, z.shape))
    return check_instances(z)


# -- indices into the model -------------------------------------------------------------
def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_layer(model, layer):
    """A layer index of ``model`` as an int."""
    n = len(model.layers)
    if not _is_int(layer) or not 0 <= int(layer) < n:
        raise ValueError("layer index %r is out of range: the model has layers 0..%d"
                         % (layer, n - 1))
    return int(layer)


def check_class(model, c):
    """A class index of ``model``'s output as an int."""
    n = int(model.output_shape[-1])
    if not _is_int(c) or not 0 <= int(c) < n:
        raise ValueError("class index %r is outside the model's output: use an int in "
                         "0..%d" % (c, n - 1))
    return int(c)


def check_classes(model, classes):
    """A non-empty list of distinct class indices of ``model``."""
    classes = [check_class(model, c) for c in classes]
    if not classes or len(set(classes)) != len(classes):
        raise ValueError("classes must be a non-empty list of distinct class indices, got "
                         "%r" % (classes,))
    return classes


def check_targets(model, targets, n, name="target_labels", per="image"):
    """One class index per instance as an int64 array (n,).

    Args:
        model: the Keras model (its output size bounds the classes).
        targets: one class index per instance, or one int for all n.
        n: the number of instances.
        name: the caller's parameter name, for the message.
        per: what one instance is, for the message ("image", "slice activation").
    """
    t = np.asarray(targets)
    if t.ndim == 0:
        t = np.full(n, t)
    noun = name.replace("_", " ")
    if t.shape != (n,) or (t.size and not np.issubdtype(t.dtype, np.integer)):
        raise ValueError("%s must be %d integer class indices, one per %s (or one for "
                         "all), got %s of shape %r and dtype %s"
                         % (name, n, per, noun, np.shape(targets), t.dtype))
    n_classes = int(model.output_shape[-1])
    bad = np.flatnonzero((t < 0) | (t >= n_classes))
    if len(bad):
        raise ValueError("%s must be integer class indices in 0..%d: class index %d "
                         "(%s[%d]) is outside the model's output"
                         % (name, n_classes - 1, t[bad[0]], name, bad[0]))
    return t.astype(np.int64)


# -- Part IV: channel scores, counts, binary predictions -------------------------------
def check_scores(scores, name="scores"):
    """A non-empty 1-D float64 array of finite channel scores."""
    s = np.asarray(scores)
    if s.ndim != 1 or len(s) == 0 or not np.issubdtype(s.dtype, np.number):
        raise ValueError("%s must be a non-empty 1-D array of channel scores, got shape %r "
                         "and dtype %s" % (name, s.shape, s.dtype))
    s = s.astype(np.float64)
    if not np.isfinite(s).all():
        raise ValueError("%s hold NaN or infinite values" % name)
    return s


def check_count(name, value):
    """A number of channels: an int >= 0."""
    if not _is_int(value) or value < 0:
        raise ValueError("%s must be a non-negative int (a number of channels), got %r"
                         % (name, value))
    return int(value)


def check_counts(name, values):
    """A non-empty sequence of channel counts as a tuple of ints."""
    v = np.asarray(values).reshape(-1) if values is not None else None
    if v is None or len(v) == 0:
        raise ValueError("%s must be a non-empty sequence of channel counts" % name)
    return tuple(check_count(name + " entries", x.item() if hasattr(x, "item") else x)
                 for x in v)


def check_binary(pred_is_c, is_c):
    """Two 1-D boolean (or 0/1) arrays of one shape, as bool arrays."""
    p, t = np.asarray(pred_is_c), np.asarray(is_c)
    if p.shape != t.shape or p.ndim != 1:
        raise ValueError("pred_is_c and is_c must be 1-D arrays of the same shape, got %r "
                         "and %r" % (p.shape, t.shape))
    for name, a in (("pred_is_c", p), ("is_c", t)):
        if a.dtype != bool and not (np.issubdtype(a.dtype, np.number)
                                    and np.isin(a, (0, 1)).all()):
            raise ValueError("%s must be boolean (or 0/1), got values %r"
                             % (name, np.unique(a)[:5].tolist()))
    return p.astype(bool), t.astype(bool)


def check_positive(name, value):
    """A count of things per call (``points_per_call``, ``images_per_call``, ...): an
    int >= 1."""
    if isinstance(value, (bool, np.bool_)) or int(value) != value or int(value) < 1:
        raise ValueError("%s must be an int >= 1, got %r" % (name, value))
    return int(value)
