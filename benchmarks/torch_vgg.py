"""The course's VGG16 in plain PyTorch (no torchvision), built from the same arrays as
the Keras/Theano model, for the Captum side of ``benchmarks/run.py``.

Conventions of the arrays (those of the official Keras file,
``vgg16_weights_tf_dim_ordering_tf_kernels.h5``, and of
``weights.stand_in.random_vgg_arrays``): 16 ``[kernel, bias]`` pairs, convolution
kernels HWIO ``(3, 3, in, out)`` for *cross-correlation* (what ``nn.Conv2d`` computes,
so they are only transposed to OIHW, never flipped), dense kernels ``(in, out)`` with
fc1's rows in channels-last ``(h, w, c)`` flatten order.

The network is the course's: zero padding 1 + 3x3 convolution + ReLU (2-2-3-3-3 per
block), 2x2 max-pools, flatten, fc1 + ReLU, fc2 + ReLU, and a *linear* output layer
(the slides' linear substitution, no softmax). Input is NCHW float32, the same
'caffe'-preprocessed array the Theano model gets.
"""
import numpy as np
import torch
from torch import nn

BLOCKS = (2, 2, 3, 3, 3)


class VGG16(nn.Module):
    """VGG16 with one named ``nn.ReLU`` module per convolution, so a layer method can
    hook any of them: ``model.relu["block4_conv1"]`` is conv4_1's (ReLU) output, the
    tensor Keras calls ``model.layers[19].input``."""

    def __init__(self, widths=(64, 128, 256, 512, 512), dense=4096, n_classes=1000,
                 input_hw=(224, 224)):
        super().__init__()
        layers, self.relu, cin = [], {}, 3
        for b, (n, width) in enumerate(zip(BLOCKS, widths), start=1):
            for i in range(1, n + 1):
                name = "block%d_conv%d" % (b, i)
                conv = nn.Conv2d(cin, width, 3, padding=1)
                relu = nn.ReLU(inplace=False)   # hooks need the output kept
                layers += [conv, relu]
                self.relu[name] = relu
                cin = width
            layers.append(nn.MaxPool2d(2, 2))
        self.features = nn.Sequential(*layers)
        self.final_hw = (input_hw[0] // 32, input_hw[1] // 32)
        flat = cin * self.final_hw[0] * self.final_hw[1]
        self.fc1 = nn.Linear(flat, dense)
        self.fc2 = nn.Linear(dense, dense)
        self.predictions = nn.Linear(dense, n_classes)
        self.fc1_relu = nn.ReLU(inplace=False)
        self.fc2_relu = nn.ReLU(inplace=False)

    @property
    def conv4_1(self):
        """The module whose output is conv4_1's ReLU output (the homework's slice)."""
        return self.relu["block4_conv1"]

    def convs(self):
        return [m for m in self.features if isinstance(m, nn.Conv2d)]

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)               # (c, h, w) order; fc1's rows were reordered
        x = self.fc1_relu(self.fc1(x))
        x = self.fc2_relu(self.fc2(x))
        return self.predictions(x)


def from_arrays(arrays, input_hw=(224, 224)):
    """A :class:`VGG16` in eval mode holding ``arrays`` (see the module docstring).

    Args:
        arrays: 16 [kernel, bias] pairs in file order (13 convolutions, fc1, fc2,
            predictions).
        input_hw: (H, W) of the input, which fixes fc1's fan-in.
    Returns:
        the model, float32, no gradients on its parameters.
    """
    arrays = [[np.asarray(a, dtype=np.float32) for a in pair] for pair in arrays]
    if len(arrays) != 16:
        raise ValueError("need 16 [kernel, bias] pairs, got %d" % len(arrays))
    widths, i = [], 0
    for n in BLOCKS:
        widths.append(arrays[i + n - 1][0].shape[3])
        i += n
    dense = arrays[13][0].shape[1]
    n_classes = arrays[15][0].shape[1]
    model = VGG16(tuple(widths), dense, n_classes, input_hw)
    with torch.no_grad():
        for conv, (k, b) in zip(model.convs(), arrays[:13]):
            # HWIO cross-correlation kernel -> OIHW (nn.Conv2d is a cross-correlation)
            conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(k.transpose(3, 2, 0, 1))))
            conv.bias.copy_(torch.from_numpy(b))
        c = widths[-1]
        h, w = model.final_hw
        k1, b1 = arrays[13]
        # rows (h, w, c) -> (c, h, w), the order torch.flatten of NCHW produces
        k1 = k1.reshape(h, w, c, -1).transpose(2, 0, 1, 3).reshape(c * h * w, -1)
        for lin, (k, b) in zip((model.fc1, model.fc2, model.predictions),
                               [(k1, b1), arrays[14], arrays[15]]):
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(k.T)))
            lin.bias.copy_(torch.from_numpy(b))
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval()


def conv_flops(widths=(64, 128, 256, 512, 512), dense=4096, n_classes=1000,
               input_hw=(224, 224)):
    """Floating-point operations (multiply and add counted apart) of one forward pass
    of one image: the 13 convolutions and 3 dense layers (biases, ReLUs and pools,
    under 0.1 % of the total, are left out).

    Returns:
        (total, list of (layer name, flops)).
    """
    h, w = input_hw
    cin, rows = 3, []
    for b, (n, width) in enumerate(zip(BLOCKS, widths), start=1):
        for i in range(1, n + 1):
            rows.append(("block%d_conv%d" % (b, i), 2 * h * w * 9 * cin * width))
            cin = width
        h, w = h // 2, w // 2
    fan_in = h * w * cin
    for name, units in (("fc1", dense), ("fc2", dense), ("predictions", n_classes)):
        rows.append((name, 2 * fan_in * units))
        fan_in = units
    return sum(f for _, f in rows), rows
