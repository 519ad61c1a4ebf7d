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
                        theano.function([z], Qz, allow_input_downcast=True, mode=mode), z.dtype,
                        floats_per_row=floats_per_row(Q, inpt))
    y, Qy = rewritten
    fgy = theano.function([y], T.grad(Qy.sum(), y), allow_input_downcast=True,
                          mode=mode)
    fqy = theano.function([y], Qy, allow_input_downcast=True, mode=mode)
    fwd, adj = head.functions()
    return Compiled(lambda z: adj(z, fgy(fwd(z))), lambda z: fqy(fwd(z)), inpt.dtype,
                    HeadFunctions(fwd, fgy, adj), floats_per_row(Q, inpt))


def compile_stacked(Qs, inpt, mode=None):
    """K quantities explained at the same points, one forward shared between them.

    A DoI explains K identical copies of each point, stacked on axis 1 (rows, K, ...),
    one copy per quantity, so its sums and difference terms stay apart by quantity.
    The compiled functions read the first copy: ``gradient`` returns the K gradients
    [dQ_k/dz (z)]_k as (rows, K, ...), from one forward of the graph below the
    quantities and K backward passes (K forwards and K backward passes when explained
    one by one); ``quantity`` returns sum_k Q_k, so the DoI's completeness gap is the
    sum of the K gaps; ``quantities`` returns (rows, K).

    Args:
        Qs: tuple of K symbolic vectors (batch,), each a quantity of interest.
        inpt: the symbolic slice variable z they depend on (as :func:`compile_quantity`).
        mode: the Theano compile mode (None: the default).
    Returns:
        a :class:`Compiled` for points (rows, K, ...). A row is budgeted at K times one
        quantity's floats (K backward passes), which is generous: six VGG16 pixel
        quantities at 8 rows per call peaked at 2.6 GB.
    """
    z = inpt.type("z")
    Qz = theano.clone(list(Qs), replace={inpt: z})
    grads = T.stack([T.grad(q.sum(), z) for q in Qz], axis=1)
    fg = theano.function([z], grads, allow_input_downcast=True, mode=mode)
    fq = theano.function([z], T.stack(Qz, axis=1), allow_input_downcast=True,
                         mode=mode)
    return Compiled(lambda zs: fg(zs[:, 0]), lambda zs: fq(zs[:, 0]).sum(axis=1), z.dtype,
                    floats_per_row=len(Qs) * floats_per_row(Qs[0], inpt),
                    quantities=lambda zs: fq(zs[:, 0]))
