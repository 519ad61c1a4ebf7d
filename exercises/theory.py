"""TU Berlin ML sheet 11, exercises 1-3, as functions the notebook shows and the tests
check.

* Exercise 1, activation maximisation of a linear model f(x) = w^T x + b:
  (a) Omega = lambda ||x||^2                 -> x* = w / (2 lambda);
  (b) Omega = -log N(x; mu, Sigma)            -> x* = mu + Sigma w;
  (c) x = A z + c, z ~ N(0, I), Omega = lambda ||z||^2 -> x* = A A^T w / (2 lambda) + c.
  Each closed form is compared with gradient ascent on the objective.
* Exercise 2, LRP on two ReLU networks that compute min(a1, a2) for a1, a2 >= 0:
  network A: y = a1 - relu(a1 - a2);
  network B: y = (a1 + a2 - relu(a1 - a2) - relu(a2 - a1)) / 2,
  each as two layers (ReLU hidden layer, linear output) given by weight matrices; the
  LRP-gamma rule written out in NumPy (:func:`lrp_gamma_numpy`, the sheet's equation)
  serves as the independent reference for the gradient trick of :mod:`methods.lrp`.
* Exercise 3, the neuralised one-class SVM: o(x) = -1/gamma log sum_i alpha_i
  exp(-gamma ||x - u_i||^2) equals the two-layer network h_i = ||x - u_i||^2 -
  log(alpha_i) / gamma, o = softmin_gamma(h), and 0 <= min_i h_i - o(x) <= log(M)/gamma.
"""
import hw3_env  # noqa: F401

import numpy as np

from methods.prototypes import gradient_ascent


# ---------------------------------------------------------------------------
# Exercise 1: closed-form prototypes of a linear model
# ---------------------------------------------------------------------------
def prototype_l2(w, lam):
    """(a) argmax_x w^T x + b - lam ||x||^2 = w / (2 lam): the gradient w - 2 lam x
    vanishes there and the objective is strictly concave."""
    return np.asarray(w, np.float64) / (2.0 * lam)


def prototype_gaussian(w, mu, sigma):
    """(b) argmax_x w^T x + b + log N(x; mu, Sigma) = mu + Sigma w: the gradient
    w - Sigma^{-1} (x - mu) vanishes there."""
    return np.asarray(mu, np.float64) + np.asarray(sigma, np.float64) @ np.asarray(w, np.float64)


def prototype_generator(w, a, c, lam):
    """(c) z* = argmax_z w^T (A z + c) + b - lam ||z||^2 = A^T w / (2 lam), so
    x* = A z* + c = A A^T w / (2 lam) + c."""
    a = np.asarray(a, np.float64)
    return a @ (a.T @ np.asarray(w, np.float64)) / (2.0 * lam) + np.asarray(c, np.float64)


def ascent_l2(w, lam, steps=200):
    """(a) by gradient ascent from 0 with step 1/(4 lam) (contraction 1/2 per step)."""
    w = np.asarray(w, np.float64)
    return gradient_ascent(lambda x: w - 2 * lam * x, np.zeros_like(w), 1.0 / (4 * lam), steps)


def ascent_gaussian(w, mu, sigma, steps=5000):
    """(b) by gradient ascent from mu; the Hessian is -Sigma^{-1}, so the step is the
    smallest eigenvalue of Sigma."""
    w, mu, sigma = (np.asarray(v, np.float64) for v in (w, mu, sigma))
    prec = np.linalg.inv(sigma)
    step = 1.0 / np.linalg.eigvalsh(prec).max()
    return gradient_ascent(lambda x: w - prec @ (x - mu), mu.copy(), step, steps)


def ascent_generator(w, a, c, lam, steps=200):
    """(c) by gradient ascent on the code z from 0 (step 1/(4 lam)), mapped to x = A z + c."""
    w, a, c = (np.asarray(v, np.float64) for v in (w, a, c))
    z = gradient_ascent(lambda z: a.T @ w - 2 * lam * z, np.zeros(a.shape[1]), 1.0 / (4 * lam),
                        steps)
    return a @ z + c


def relative_error(a, b):
    """||a - b|| / ||b||."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def random_linear_problem(d=8, k=3, seed=0):
    """A random linear model and priors: w (d,), lam, mu (d,), Sigma (d, d) positive
    definite, generator A (d, k) and c (d,)."""
    rng = np.random.RandomState(seed)
    b = rng.randn(d, d)
    return dict(w=rng.randn(d), lam=float(rng.uniform(0.5, 2.0)), mu=rng.randn(d),
                sigma=b @ b.T / d + np.eye(d), a=rng.randn(d, k), c=rng.randn(d))


def exercise1_table(seeds=(0, 1, 2), d=8, k=3):
    """Rows (seed, part, relative error of gradient ascent to the closed form)."""
    rows = []
    for s in seeds:
        p = random_linear_problem(d, k, s)
        rows.append((s, "(a)", relative_error(ascent_l2(p["w"], p["lam"]),
                                              prototype_l2(p["w"], p["lam"]))))
        rows.append((s, "(b)", relative_error(ascent_gaussian(p["w"], p["mu"], p["sigma"]),
                                              prototype_gaussian(p["w"], p["mu"], p["sigma"]))))
        rows.append((s, "(c)", relative_error(ascent_generator(p["w"], p["a"], p["c"], p["lam"]),
                                              prototype_generator(p["w"], p["a"], p["c"],
                                                                  p["lam"]))))
    return rows


# ---------------------------------------------------------------------------
# Exercise 2: two ReLU networks for min(a1, a2), and LRP-gamma written out
# ---------------------------------------------------------------------------
# Each network: [(W1 (2, H), b1 (H,)), (W2 (H, 1), b2 (1,))], hidden layer ReLU, output
# linear; W[j, k] is the weight from unit j to unit k.
MIN_NETWORKS = {
    # y = a1 - relu(a1 - a2): hidden u1 = relu(a1) = a1, u2 = relu(a1 - a2)
    "A": [(np.array([[1.0, 1.0], [0.0, -1.0]]), np.zeros(2)),
          (np.array([[1.0], [-1.0]]), np.zeros(1))],
    # y = (a1 + a2 - relu(a1 - a2) - relu(a2 - a1)) / 2: hidden a1, a2, relu(a1 - a2),
    # relu(a2 - a1)
    "B": [(np.array([[1.0, 0.0, 1.0, -1.0], [0.0, 1.0, -1.0, 1.0]]), np.zeros(4)),
          (np.array([[0.5], [0.5], [-0.5], [-0.5]]), np.zeros(1))],
}
MIN_FORMULAS = {"A": "a1 - relu(a1 - a2)",
                "B": "(a1 + a2 - relu(a1 - a2) - relu(a2 - a1)) / 2"}


def min_network(name):
    """The weights of network ``name`` ('A' or 'B'), see :data:`MIN_NETWORKS`."""
    if name not in MIN_NETWORKS:
        raise ValueError("unknown min network %r; choose 'A' or 'B'" % (name,))
    return [(w.copy(), b.copy()) for w, b in MIN_NETWORKS[name]]


def forward_numpy(layers, a):
    """Activations of every layer for inputs a (N, 2): [a, hidden, y]; ReLU on all
    layers but the last."""
    acts = [np.asarray(a, np.float64)]
    for i, (w, b) in enumerate(layers):
        z = acts[-1] @ w + b
        acts.append(z if i == len(layers) - 1 else np.maximum(z, 0))
    return acts


def lrp_gamma_numpy(layers, a, gamma, epsilon=1e-9):
    """The sheet's LRP-gamma rule at every layer, written out:

        R_j = sum_k a_j (w_jk + gamma w_jk^+) / (sum_j a_j (w_jk + gamma w_jk^+) + b_k + gamma b_k^+) R_k

    starting from R = y at the output. Args: layers as in :data:`MIN_NETWORKS`,
    a (N, 2), gamma >= 0 (one value, or one per layer). Returns R of the inputs (N, 2).
    """
    acts = forward_numpy(layers, a)
    gammas = np.broadcast_to(np.asarray(gamma, np.float64), (len(layers),))
    r = acts[-1]
    for (w, b), x, g in reversed(list(zip(layers, acts[:-1], gammas))):
        wg, bg = w + g * np.maximum(w, 0), b + g * np.maximum(b, 0)
        p = x @ wg + bg
        p = p + np.where(p >= 0, epsilon, -epsilon)
        r = x * ((r / p) @ wg.T)
    return r


def r1_closed_form(name, a):
    """Exercise 2(b): R_1 for a1 = a2 = a under LRP-gamma, any gamma >= 0.

    A: the difference unit relu(a1 - a2) is 0 and receives nothing; all of y = a goes to
    the unit u1 = a1, which only a1 feeds: R_1 = a (and R_2 = 0).
    B: the output splits y = a between the two active units a1/2 and a2/2 in proportion
    (1 + gamma) a / 2 each: R_1 = a / 2 (and R_2 = a / 2).
    """
    a = np.asarray(a, np.float64)
    return {"A": a, "B": a / 2.0}[name]


def keras_min_network(name):
    """Network ``name`` as a Keras model on inputs (2, 1, 1): two 1x1 convolutions
    (ReLU, then linear) and a Flatten, so :func:`methods.lrp.lrp_model` rewrites both
    layers. Output: one score, y = min(a1, a2)."""
    K = hw3_env.setup()
    from keras.models import Sequential
    from keras.layers import Conv2D, Flatten
    (w1, b1), (w2, b2) = min_network(name)
    m = Sequential([Conv2D(w1.shape[1], (1, 1), activation="relu", input_shape=(2, 1, 1)),
                    Conv2D(1, (1, 1), activation="linear"), Flatten()])
    m.set_weights([w1[None, None].astype(np.float32), b1.astype(np.float32),
                   w2[None, None].astype(np.float32), b2.astype(np.float32)])
    assert K.image_data_format() == "channels_first"
    return m


# ---------------------------------------------------------------------------
# Exercise 3: the neuralised one-class SVM
# ---------------------------------------------------------------------------
def _logsumexp(v, axis=-1):
    m = np.max(v, axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.sum(np.exp(v - m), axis=axis))


def ocsvm_inlierness(x, u, alpha, gamma):
    """f(x) = sum_i alpha_i exp(-gamma ||x - u_i||^2) for x (N, d), support vectors
    u (M, d), alpha (M,) > 0."""
    d2 = ((np.asarray(x)[:, None, :] - np.asarray(u)[None]) ** 2).sum(-1)
    return (np.asarray(alpha)[None] * np.exp(-gamma * d2)).sum(-1)


def outlier_score(x, u, alpha, gamma):
    """o(x) = -1/gamma log f(x), computed directly (log of the sum, stably)."""
    d2 = ((np.asarray(x)[:, None, :] - np.asarray(u)[None]) ** 2).sum(-1)
    return -_logsumexp(np.log(np.asarray(alpha))[None] - gamma * d2) / gamma


def neuralized_layers(x, u, alpha, gamma):
    """The two-layer network of exercise 3(a).

    Returns:
        (h, o): layer 1, h_i = ||x - u_i||^2 - log(alpha_i) / gamma (N, M), and layer 2,
        o = -1/gamma log sum_i exp(-gamma h_i) (N,).
    """
    h = ((np.asarray(x)[:, None, :] - np.asarray(u)[None]) ** 2).sum(-1) \
        - np.log(np.asarray(alpha))[None] / gamma
    return h, -_logsumexp(-gamma * h) / gamma


def softmin_gap(x, u, alpha, gamma):
    """min_i h_i - o(x) (N,): between 0 and log(M)/gamma (exercise 3(b))."""
    h, o = neuralized_layers(x, u, alpha, gamma)
    return h.min(-1) - o


def random_ocsvm(m=6, d=3, seed=0):
    """Random support vectors u (M, d), weights alpha (M,) > 0 and points x (5, d)."""
    rng = np.random.RandomState(seed)
    return dict(u=rng.randn(m, d), alpha=rng.uniform(0.1, 1.0, m), x=rng.randn(5, d))
