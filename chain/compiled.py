"""The compiled functions of a quantity of interest at a slice, as one named structure.

A distribution of interest (:mod:`chain.doi`) evaluates dQ/dz and Q at points z of the
slice's space; :func:`compile_quantity` builds both once per (Q, slice, head) and
returns them as :class:`Compiled`. With an affine head (:mod:`chain.affine_head`) the
path runs past the head's affine layers, so the compiled record also carries the
head's three functions (:class:`HeadFunctions`).
"""
import hw3_env  # noqa: F401  (must come before theano)

from typing import Callable, NamedTuple, Optional

import numpy as np
import theano
import theano.tensor as T


class HeadFunctions(NamedTuple):
    """The functions of a path folded past an affine head y = A(z) = W z + b.

    Attributes:
        forward: z -> y = A(z).
        gradient: y -> dQ'/dy, the gradient of Q as a function of y.
        adjoint: (z, dy) -> W^T dy (z gives the shapes).
    """
    forward: Callable
    gradient: Callable
    adjoint: Callable


class Compiled(NamedTuple):
    """What a DoI evaluates at points z of the slice.

    Attributes:
        gradient: z -> dQ/dz (through the head when there is one).
        quantity: z -> Q(z), one value per point.
        dtype: the dtype of the slice variable (points are cast to it).
        head: the head's :class:`HeadFunctions`, or None when the path runs in z.
        floats_per_row: the floats of the layer outputs between the slice and Q for
            one row (:func:`floats_per_row`; 0 when unknown): what a row costs in memory.
        quantities: for K stacked quantities (:func:`compile_stacked`), z -> (rows, K),
            each quantity at each point; else None.
    """
    gradient: Callable
    quantity: Callable
    dtype: str
    head: Optional[HeadFunctions] = None
    floats_per_row: int = 0
    quantities: Optional[Callable] = None


def floats_per_row(Q, inpt):
    """The floats one row holds in the layer outputs between ``inpt`` and ``Q``: the
    sum, over the outputs of Keras layers in Q's graph above the slice, of their
    per-row sizes (0 when the graph has no Keras layers)."""
    total = 0
    for v in theano.gof.graph.ancestors([Q], blockers=[inpt]):
        shape = getattr(v, "_keras_shape", None)
        if v is not inpt and hasattr(v, "_keras_history") and shape is not None \
                and len(shape) > 1 and all(d is not None for d in shape[1:]):
            total += int(np.prod(shape[1:]))
    return total


def quantity_mode(mode=None):
    """The compile mode of the functions that evaluate Q alone (a few points per
    instance: the completeness gap's Q(z) - Q(z')): ``mode`` without Winograd's
    convolutions. Their kernel transforms, cached per op (under F(4x4, 3x3) four times
    the kernel, plus a copy of it to see it change), would repeat those the gradient
    function holds for the same layers: 0.29 GB for VGG16's forward. im2col is also
    closer to float64 (:mod:`theano_ops.winograd`)."""
    return theano.compile.mode.get_mode(mode).excluding("winograd")


def compile_quantity(Q, inpt, head=None, mode=None):
    """Compile dQ/dz and Q at the slice variable ``inpt``.

    Args:
        Q: symbolic vector (batch,): the quantity of interest per instance.
        inpt: the symbolic slice variable z that Q depends on (``model.input`` or an
            internal tensor such as ``model.layers[19].input``). It is replaced by a
            fresh input variable, so the part of the network below the slice never runs.
        head: a :class:`chain.affine_head.AffineHead` of the slice, or None. When Q
            reaches the slice only through the head, the gradient is taken in the
            head's output space y and pulled back by W^T.
        mode: the Theano compile mode (None: the default), e.g. one that excludes an
            optimization (:attr:`chain.doi.DoI.mode`).
    Returns:
        a :class:`Compiled`.
    """
    rewritten = head.rewrite(Q) if head is not None else None
    if rewritten is None:
        z = inpt.type("z")
        Qz = theano.clone(Q, replace={inpt: z})
        grad = T.grad(Qz.sum(), z)
        return Compiled(theano.function([z], grad, allow_input_downcast=True, mode=mode),
                        theano.function([z], Qz, allow_input_downcast=True,
                                        mode=quantity_mode(mode)), z.dtype,
                        floats_per_row=floats_per_row(Q, inpt))
    y, Qy = rewritten
    fgy = theano.function([y], T.grad(Qy.sum(), y), allow_input_downcast=True,
                          mode=mode)
    fqy = theano.function([y], Qy, allow_input_downcast=True, mode=quantity_mode(mode))
    fwd, adj = head.functions()
    return Compiled(lambda z: adj(z, fgy(fwd(z))), lambda z: fqy(fwd(z)), inpt.dtype,
                    HeadFunctions(fwd, fgy, adj), floats_per_row(Q, inpt))


def compile_stacked(Qs, inpt, head=None, mode=None):
    """K quantities explained at the same points, one forward shared between them.

    A DoI explains K identical copies of each point, stacked on axis 1 (rows, K, ...),
    one copy per quantity, so its sums and difference terms stay apart by quantity.
    The compiled functions read the first copy: ``gradient`` returns the K gradients
    [dQ_k/dz (z)]_k as (rows, K, ...), from one forward of the graph below the
    quantities and K backward passes (K forwards and K backward passes when explained
    one by one); ``quantity`` returns sum_k Q_k, so the DoI's completeness gap is the
    sum of the K gaps; ``quantities`` returns (rows, K).

    With an affine head the same holds past it (:func:`compile_quantity`): the head's
    ``forward`` maps the points' first copy to y and repeats it K times, ``gradient``
    returns the K gradients in y from one forward of the graph above y, and
    ``adjoint`` pulls each copy back by W^T.

    Args:
        Qs: tuple of K symbolic vectors (batch,), each a quantity of interest.
        inpt: the symbolic slice variable z they depend on (as :func:`compile_quantity`).
        head: a :class:`chain.affine_head.AffineHead` of the slice, or None.
        mode: the Theano compile mode (None: the default).
    Returns:
        a :class:`Compiled` for points (rows, K, ...). A row is budgeted at (K + 1) / 2
        times one quantity's floats: the forward's layer outputs are kept once, and the
        K backward passes hold a few layers' gradients at a time. Past conv4_1's head,
        two quantities at 64 rows per call peaked 0.54 GB above the resident memory,
        one quantity at 96 rows 0.51 GB (at 96 rows, two took 0.81 GB).
    """
    k = len(Qs)
    per_row = (k + 1) * floats_per_row(Qs[0], inpt) // 2
    rewritten = head.rewrite(tuple(Qs)) if head is not None else None
    if rewritten is None:
        z = inpt.type("z")
        Qz = theano.clone(list(Qs), replace={inpt: z})
        fg, fq = _stacked_functions(Qz, z, mode)
        return Compiled(lambda zs: fg(zs[:, 0]), lambda zs: fq(zs[:, 0]).sum(axis=1), z.dtype,
                        floats_per_row=per_row, quantities=lambda zs: fq(zs[:, 0]))
    y, Qy = rewritten
    fgy, fqy = _stacked_functions(Qy, y, mode)
    fwd, adj = head.functions()

    def forward(zs):                        # (rows, K, ...) -> (rows, K, ...) in y
        return np.repeat(fwd(zs[:, 0])[:, None], k, axis=1)

    def adjoint(zs, dys):                   # each copy by W^T
        flat = adj(zs.reshape((-1,) + zs.shape[2:]), dys.reshape((-1,) + dys.shape[2:]))
        return flat.reshape(dys.shape[:2] + flat.shape[1:])

    def quantities(zs):
        return fqy(fwd(zs[:, 0]))

    return Compiled(lambda zs: adjoint(zs, fgy(fwd(zs[:, 0]))),
                    lambda zs: quantities(zs).sum(axis=1), inpt.dtype,
                    HeadFunctions(forward, lambda ys: fgy(ys[:, 0]), adjoint),
                    per_row, quantities=quantities)


def _stacked_functions(Qs, v, mode):
    """(v -> the K gradients dQ_k/dv stacked on axis 1, v -> the K quantities (rows, K))."""
    grads = T.stack([T.grad(q.sum(), v) for q in Qs], axis=1)
    return (theano.function([v], grads, allow_input_downcast=True, mode=mode),
            theano.function([v], T.stack(Qs, axis=1), allow_input_downcast=True,
                            mode=quantity_mode(mode)))
