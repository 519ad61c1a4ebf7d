"""The ablation metrics of explanation maps: insertion and deletion curves (Petsiuk et
al. 2018) of several methods on several images, and their areas.

The curves are CSEP 590B HW2's (:func:`methods.csep590b.insertion` and
:func:`~methods.csep590b.deletion`: the target's probability p_t as the most important
superpixels are put into the baseline or removed from the image); the comparison of
every method (:func:`evaluation.contenders.ablation_auc`) and the homework's notebook
grade maps with them.
"""
import hw3_env  # noqa: F401

import numpy as np

from methods.csep590b import deletion, insertion
from chain.checks import check_targets
from methods.removal import auc
from notebook_tools.progress import progress as _progress

__all__ = ["ablation_curves"]


def ablation_curves(imgs, model, importances, target_labels, baseline, kind, step=1,
                    masks_per_call=16, progress=True):
    """Insertion or deletion curves of several explanation methods on several images.

    Args:
        imgs: (N, 3, H, W) model inputs.
        importances: dict method name -> (N, H/s, W/s) superpixel importance.
        target_labels: (N,) classes.
        baseline: the baseline image (broadcastable to one image).
        kind: 'insertion' or 'deletion'.
        step: superpixels per point.
        masks_per_call: masked copies per forward call.
        progress: show progress over the curves.
    Returns:
        dict name -> (curves (N, P) float64, num_feats (P,), aucs (N,)); the mean curve
        of a method is ``curves.mean(axis=0)``, its average AUC ``aucs.mean()``.
    """
    fn = {"insertion": insertion, "deletion": deletion}.get(kind)
    if fn is None:
        raise ValueError("kind must be 'insertion' or 'deletion', got %r" % (kind,))
    x = np.asarray(imgs, dtype=np.float32)
    labels = check_targets(model, target_labels, len(x))
    out = {}
    jobs = [(name, i) for name in importances for i in range(len(x))]
    results = {}
    for name, i in _progress(jobs, desc="%s curves" % kind, unit="curve", disable=not progress):
        results[name, i] = fn(x[i:i + 1], model, np.asarray(importances[name])[i:i + 1],
                              int(labels[i]), baseline, step=step,
                              masks_per_call=masks_per_call)
    for name in importances:
        curves = np.stack([results[name, i][0] for i in range(len(x))])
        num = results[name, 0][1]
        out[name] = (curves, num, np.array([auc(c, num) for c in curves]))
    return out
