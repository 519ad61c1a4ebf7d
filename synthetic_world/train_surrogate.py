"""Train the offline surrogate model on the synthetic world.

The surrogate is the course's VGG16 layout (13 convolutions, 2x2 pools, two dense
relu layers, a *linear* score layer) at reduced width on 64x64 inputs, trained on
freshly generated 'train' scenes every epoch (:mod:`synthetic_world.scenes`), with softmax
cross-entropy on the linear scores (the saved model stays linear) and Adam with a
cosine learning-rate decay. A plain VGG without batch normalisation starts badly from
scratch on 'caffe'-preprocessed inputs (pixel values of +-128), so the He-normal
kernels are rescaled once on a batch of data so that every layer's output has unit
scale (layer-sequential unit-variance initialisation, Mishkin & Matas 2016). The
twin classes (sports car / convertible, pickup / van) differ only in a small region
and get ``--twin-weight`` times as many training images per epoch as the others.

``--task`` chooses the label (``scenes.TASKS``): ``object`` (the object's class, ten
classes: the first surrogate, ``models/surrogate.h5``), ``background`` (the background's
kind: gradient, smooth noise or stripes) or ``stripes`` (whether the background is
striped: the scene-level label of the second surrogate, ``models/surrogate_background.h5``,
which ``make surrogate-background`` retrains on the same scenes).

It writes the weights (``models.save_weights``) and a JSON record beside them: seed,
epochs, data sizes, architecture, held-out accuracy overall and per class (with the
confusion matrix), wall time, command line and library versions.

Usage::

    python -m synthetic_world.train_surrogate [--task object] [--epochs 16] [--n-train-per-class 400] [--twin-weight 3]
                                           [--seed 0] [--out models/surrogate.h5]
"""
import argparse
import json
import os
import sys
import time

import hw3_env

import numpy as np

K = hw3_env.setup()
import models  # noqa: E402
from synthetic_world import scenes as synthetic  # noqa: E402
from synthetic_world import surrogate  # noqa: E402

DEFAULTS = {'epochs': 16, 'n_train_per_class': 400, 'seed': 0, 'batch_size': 32,
            'lr': 1e-3, 'min_lr': 2e-5, 'n_heldout_per_class': 100, 'twin_weight': 3,
            'widths': surrogate.SURROGATE_WIDTHS, 'dense': surrogate.SURROGATE_DENSE,
            'out': surrogate.SURROGATE_PATH, 'task': 'object'}


def parse_args(argv):
    """Command-line options.

    Args:
        argv: list of arguments (without the program name).
    Returns:
        argparse.Namespace.
    Raises:
        SystemExit: bad options (argparse's usage message).
    """
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--task', choices=sorted(synthetic.TASKS), default=DEFAULTS['task'],
                   help="the label: the object's class or the background's kind")
    p.add_argument('--epochs', type=int, default=DEFAULTS['epochs'])
    p.add_argument('--n-train-per-class', type=int, default=DEFAULTS['n_train_per_class'],
                   help='fresh training images per class and epoch')
    p.add_argument('--seed', type=int, default=DEFAULTS['seed'])
    p.add_argument('--out', default=DEFAULTS['out'], help='weight file (.h5); the record '
                   'goes beside it as .json')
    p.add_argument('--batch-size', type=int, default=DEFAULTS['batch_size'])
    p.add_argument('--lr', type=float, default=DEFAULTS['lr'])
    p.add_argument('--min-lr', type=float, default=DEFAULTS['min_lr'])
    p.add_argument('--n-heldout-per-class', type=int, default=DEFAULTS['n_heldout_per_class'])
    p.add_argument('--twin-weight', type=int, default=DEFAULTS['twin_weight'],
                   help='the twin classes (sports car, convertible, pickup, van) get this '
                   'many times --n-train-per-class images per epoch')
    p.add_argument('--widths', type=int, nargs=5, default=list(DEFAULTS['widths']))
    p.add_argument('--dense', type=int, default=DEFAULTS['dense'])
    args = p.parse_args(argv)
    for name in ('epochs', 'n_train_per_class', 'batch_size', 'n_heldout_per_class', 'dense',
                 'twin_weight'):
        if getattr(args, name) < 1:
            p.error('--%s must be >= 1' % name.replace('_', '-'))
    if min(args.widths) < 1 or not 0 < args.min_lr <= args.lr:
        p.error('--widths must be positive and 0 < --min-lr <= --lr')
    return args


def logits_loss(y_true, scores):
    """Softmax cross-entropy computed from the model's linear scores."""
    return K.categorical_crossentropy(y_true, scores, from_logits=True)


def lr_at(epoch, epochs, lr, min_lr):
    """Cosine decay from ``lr`` (epoch 0) to ``min_lr`` (last epoch)."""
    if epochs == 1:
        return lr
    return min_lr + 0.5 * (lr - min_lr) * (1 + np.cos(np.pi * epoch / (epochs - 1)))


def images_per_class(n_per_class, twin_weight):
    """Training images per class and epoch: ``n_per_class``, times ``twin_weight``
    for the twin classes (their only difference is small, so they need the data)."""
    return [n_per_class * (twin_weight if c in synthetic.TWINS else 1)
            for c in range(len(synthetic.CLASS_NAMES))]


def training_data(epoch, counts, seed, task='object'):
    """Fresh preprocessed training images for one epoch: ``counts[c]`` images of
    class c, from image ``epoch * counts[c]`` of its 'train' stream on, labelled
    for ``task`` (``synthetic.task_labels``).

    Returns:
        (x float32 (N, 3, 64, 64), y one-hot float32 (N, n_labels)).
    """
    images, labels = [], []
    for c, n in enumerate(counts):
        images.append(synthetic.generate(c, n, 'train', seed, start=epoch * n)[0])
        labels.append(synthetic.task_labels(task, c, n, 'train', seed, start=epoch * n))
    x = models.preprocess(np.concatenate(images), size=synthetic.IMAGE_SIZE)
    y = np.eye(len(synthetic.TASKS[task]), dtype=np.float32)[np.concatenate(labels)]
    return x, y


def unit_variance_init(model, x):
    """Rescale every kernel so that each weighted layer's output has unit standard
    deviation on ``x`` (biases are zero at initialisation, so each layer's output is
    positively homogeneous in all earlier kernels and one forward pass suffices).

    Args:
        model: a freshly initialised model (zero biases).
        x: a batch of preprocessed inputs.
    Returns:
        the list of scale factors applied, in layer order.
    """
    layers = [l for l in model.layers if l.weights]
    f = K.function([model.input], [l.output for l in layers])
    stds = [float(np.std(o)) for o in f([x])]
    factors, applied = [], 1.0
    for layer, std in zip(layers, stds):
        a = 1.0 / max(std * applied, 1e-8)
        K.set_value(layer.weights[0], K.get_value(layer.weights[0]) * a)
        applied *= a
        factors.append(a)
    return factors


def build_model(args):
    """The surrogate architecture with He-normal kernels, compiled for training."""
    from keras.optimizers import Adam
    model = surrogate.build_surrogate(args.widths, args.dense, kernel_initializer='he_normal',
                                      n_classes=len(synthetic.TASKS[args.task]))
    model.compile(Adam(lr=args.lr), logits_loss, metrics=['accuracy'])
    return model


def train_epoch(model, x, y, batch_size, rng):
    """One pass over (x, y) in a shuffled order.

    Returns:
        (mean loss, mean accuracy) over the batches.
    """
    order = rng.permutation(len(x))
    losses, accs = [], []
    for i in range(0, len(x), batch_size):
        idx = order[i:i + batch_size]
        loss, acc = model.train_on_batch(x[idx], y[idx])
        losses.append(loss)
        accs.append(acc)
    return float(np.mean(losses)), float(np.mean(accs))


def log(msg):
    print(msg, flush=True)


def train(args):
    """Train a surrogate as ``args`` says.

    Returns:
        (model, history): the trained model and a list of per-epoch dicts.
    """
    np.random.seed(args.seed)            # Keras' initialisers draw from NumPy
    rng = np.random.RandomState(args.seed)
    model = build_model(args)
    history = []
    for epoch in range(args.epochs):
        t0 = time.time()
        x, y = training_data(epoch, images_per_class(args.n_train_per_class, args.twin_weight),
                             args.seed, args.task)
        if epoch == 0:
            unit_variance_init(model, x[rng.choice(len(x), min(len(x), 256), replace=False)])
        lr = lr_at(epoch, args.epochs, args.lr, args.min_lr)
        K.set_value(model.optimizer.lr, lr)
        loss, acc = train_epoch(model, x, y, args.batch_size, rng)
        history.append({'epoch': epoch + 1, 'lr': lr, 'loss': loss, 'train_accuracy': acc,
                        'seconds': round(time.time() - t0, 1)})
        log('epoch %d/%d  lr %.2e  loss %.4f  train acc %.4f  (%.0f s)'
            % (epoch + 1, args.epochs, lr, loss, acc, time.time() - t0))
    return model, history


def versions():
    """Versions of the libraries that produced the weights."""
    import keras
    import theano
    return {'python': sys.version.split()[0], 'numpy': np.__version__,
            'keras': keras.__version__, 'theano': theano.__version__}


def make_record(args, history, accuracy, wall_time, argv):
    """The JSON-serialisable training record."""
    counts = images_per_class(args.n_train_per_class, args.twin_weight)
    return {
        'task': args.task, 'seed': args.seed, 'epochs': args.epochs,
        'n_train_per_class_per_epoch': dict(zip(synthetic.CLASS_NAMES, counts)),
        'n_train_images_total': args.epochs * sum(counts),
        'train_split': 'train',
        'heldout': {'split': 'heldout', 'seed': 0, 'n_per_class': args.n_heldout_per_class},
        'batch_size': args.batch_size, 'lr': args.lr, 'min_lr': args.min_lr,
        'optimizer': 'Adam, cosine decay; softmax cross-entropy on the linear scores',
        'input_shape': [3, synthetic.IMAGE_SIZE, synthetic.IMAGE_SIZE],
        'widths': list(args.widths), 'dense': args.dense,
        'class_names': list(synthetic.TASKS[args.task]),
        'heldout_accuracy': accuracy['overall'],
        'heldout_accuracy_per_class': accuracy['per_class'],
        'heldout_confusion': accuracy['confusion'],
        'history': history,
        'wall_time_seconds': round(wall_time, 1),
        'command': ' '.join(['python', '-m', 'synthetic_world.train_surrogate'] + list(argv)),
        'versions': versions(),
    }


def main(argv=None):
    """Train, evaluate on the held-out split, write the weights and the record.

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``).
    Returns:
        the record (dict).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    t0 = time.time()
    model, history = train(args)
    accuracy = surrogate.heldout_accuracy(model, args.n_heldout_per_class, seed=0,
                                          task=args.task)
    wall = time.time() - t0
    log('held-out accuracy %.4f  per class %s' % (accuracy['overall'], json.dumps(
        {k: round(v, 3) for k, v in accuracy['per_class'].items()})))
    models.save_weights(model, args.out)
    record = make_record(args, history, accuracy, wall, argv)
    path = surrogate.record_path(args.out)
    with open(path + '.part', 'w', encoding='utf8') as f:
        json.dump(record, f, indent=1)
    os.replace(path + '.part', path)
    log('wrote %s (%.2f MB) and %s in %.0f s' % (args.out, os.path.getsize(args.out) / 2 ** 20,
                                                 path, wall))
    return record


if __name__ == '__main__':
    main()
