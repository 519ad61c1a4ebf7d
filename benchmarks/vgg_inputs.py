"""What both sides of a benchmark start from: one VGG16 weight file with stand-in
weights (random He-scaled values in the official layout, :mod:`weights.stand_in`),
random 'caffe'-scaled images, and the two models loaded from that one file: ours
(``models.VGG_16``) and PyTorch's (``torch_vgg.from_arrays``, fed by h5py alone, so
the Captum side never imports Keras or Theano).
"""
import os

import numpy as np

HW = (224, 224)


def weight_path(a):
    """The weight file of a run: ``<workdir>/vgg16_seed<seed>.h5``."""
    return os.path.join(a.workdir, "vgg16_seed%d.h5" % a.seed)


def prepare(a):
    """The weight file (written once per work directory) and ``x.npy``: ``a.images``
    (at least 1) random 'caffe'-scaled images, NCHW float32."""
    from weights import stand_in
    path = weight_path(a)
    if not os.path.exists(path):
        print("writing a random VGG16 weight file (official layout, seed %d) ..." % a.seed,
              flush=True)
        stand_in.write_official_weight_file(path + ".part", input_hw=HW, seed=a.seed)
        os.replace(path + ".part", path)
    n = max(a.images, 1)
    x = stand_in.caffe_like_images(n, HW, seed=a.seed).transpose(0, 3, 1, 2)
    np.save(os.path.join(a.workdir, "x.npy"), np.ascontiguousarray(x, dtype=np.float32))


def read_arrays(path):
    """The [kernel, bias] pairs of a Keras HDF5 weight file, in file order, as stored
    (h5py only, so the Captum side never imports Keras or Theano)."""
    import h5py

    def dec(s):
        return s.decode("utf8") if isinstance(s, bytes) else str(s)

    pairs = []
    with h5py.File(path, "r") as f:
        for name in (dec(n) for n in f.attrs["layer_names"]):
            g = f[name]
            names = [dec(n) for n in g.attrs.get("weight_names", [])]
            if names:
                pairs.append([np.asarray(g[n], dtype=np.float32) for n in names])
    return pairs


def load_ours(path, float64=False):
    """Our VGG16 (``models.VGG_16``) from ``path``; in float64 for the rule checks."""
    import hw3_env
    K = hw3_env.setup()
    import models           # (its import runs hw3_env.setup(), which sets float32)
    if float64:
        K.set_floatx("float64")
    return models.VGG_16(path, input_shape=(3,) + HW)


def load_torch(path):
    """The PyTorch VGG16 (``torch_vgg.from_arrays``) from ``path``, on 2 threads."""
    import torch
    import torch_vgg
    torch.set_num_threads(2)
    arrays = read_arrays(path)
    model = torch_vgg.from_arrays(arrays, HW)
    del arrays
    return model
