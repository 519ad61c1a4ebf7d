# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-all
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # TU Berlin Machine Learning, exercise sheet 11
#
# This notebook answers the four exercises of the sheet: activation maximisation, LRP on two
# networks that compute min, the neuralised one-class SVM, and the programming exercise that
# explains VGG-16's neuron "castle" with Gradient $\times$ Input and LRP. It runs on this
# bundle's model and world (chosen by `WORLD` below; the banner says which produced the saved
# outputs): `WORLD = "imagenet"` explains VGG-16 on the sheet's castle photo (class 483);
# `WORLD = "synthetic"` explains, offline, a small classifier of generated 64x64 scenes with
# known part masks, where a church scene stands in for the castle. The sheet's functions are
# in `methods/sheet11.py` (`gradient_x_input`, `lrp`, `visualize`), the closed forms and tiny
# networks of exercises 1-3 in `exercises/theory.py`. Every answer about a figure is printed
# from the numbers computed beside it.

# %% tags=["parameters"]
# Parameters: `make run ... -p NAME VALUE` writes the values used into this cell.
WORLD = "synthetic"   # "imagenet" (VGG16 + the castle photo) or "synthetic" (offline)
AM_STEPS = 120        # gradient steps of activation maximisation
N_REAL = None         # real images per class to compare prototypes with; None: all

# %%
import hw3_env  # Keras on Theano, channels first, float32: must come first

import numpy as np
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

import models
import test_data
from Explanation import Explanation, top_neurons
from evaluation import evidence, sheet11_answers
from methods import lrp as L
from exercises import theory
from methods import prototypes, sheet11
from methods.scores import probabilities
from VisualizerTiler import image_row

np.random.seed(0)
# %matplotlib inline

world = test_data.load_world(WORLD)
model = world.model()
names = world.class_names
display(Markdown(world.banner(notebook="notebooks/tub_sheet11.ipynb",
                              photo="castle (483)" if WORLD == "imagenet" else "a church scene")))

# %% [markdown]
# # Exercise 1: Activation maximisation
#
# For the linear model $f(x) = w^\top x + b$ the prototype maximises $f(x) - \Omega(x)$.
# Each objective below is strictly concave, so the prototype is the unique point where its
# gradient vanishes.
#
# **(a)** $\Omega(x) = \lambda \|x\|^2$: the gradient is $w - 2\lambda x$, which vanishes at
# $$x^\star = \frac{w}{2\lambda}.$$
#
# **(b)** $\Omega(x) = -\log p(x)$ with $x \sim \mathcal N(\mu, \Sigma)$:
# $-\log p(x) = \tfrac12 (x-\mu)^\top \Sigma^{-1} (x-\mu) + \text{const}$, so the gradient is
# $w - \Sigma^{-1}(x - \mu)$, which vanishes at
# $$x^\star = \mu + \Sigma w .$$
# The prototype starts from the mean of the data and moves along $w$ as the data's
# covariance allows.
#
# **(c)** With the generator $x = Az + c$, $z \sim \mathcal N(0, I)$, we maximise
# $w^\top (Az + c) + b - \lambda \|z\|^2$ over the code: the gradient $A^\top w - 2\lambda z$
# vanishes at $z^\star = A^\top w / (2\lambda)$, and the prototype is its image
# $$x^\star = A z^\star + c = \frac{A A^\top w}{2\lambda} + c .$$
#
# Each closed form is checked against gradient ascent on its objective for random linear
# models ($d = 8$, a generator with a 3-dimensional code):

# %%
rows = theory.exercise1_table(seeds=(0, 1, 2))
print("seed  part  relative error of gradient ascent to the closed form")
for seed, part, err in rows:
    print("%4d  %s   %.1e" % (seed, part, err))

# %% tags=["nbval-check-output"]
print("every closed form agrees with gradient ascent (relative error < 1e-4):",
      all(err < 1e-4 for _, _, err in rows))

# %% [markdown]
# **Activation maximisation in practice.** On the network, $f$ is a class score $s_c$
# (the linear output before the softmax: scores, not probabilities) or the summed activation
# of one channel of a hidden layer, and the prototype is found by gradient ascent on
# $f(x) - \lambda \|x - x_0\|^2$ (exercise 1(a)'s penalty around the mean image $x_0$, zero in
# the model's mean-subtracted input space), with $\lambda = 10^{-5}$, RMS-normalised steps of
# 4 grey levels, a Gaussian blur of the image every 8 steps (a smoothness prior) and the
# pixels kept inside $[0, 255]$. Beside the prototypes: their scores against the real images
# of their class, the class the model gives each prototype, and how rough each is (the mean
# difference between neighbouring pixels, in grey levels) against the real images.

# %%
am_classes = world.compression_classes[:3]
AM_SETTINGS = dict(step=4.0, l2=1e-5, blur_every=8, blur_sigma=0.5, low=L.CAFFE_LOW,
                   high=L.CAFFE_HIGH)
real = {c: world.compression_set("heldout", c, limit=N_REAL) for c in am_classes}
gxi = sheet11.explainer(model)           # Gradient x Input, compiled once
pixels = gxi.for_input()
protos, real_scores = {}, {}
for c in am_classes:
    q = pixels.absolute(c)
    protos[c] = prototypes.activation_maximisation(q, steps=AM_STEPS, **AM_SETTINGS)
    real_scores[c] = prototypes.scores(q, world.preprocess(real[c].images))

proto_pictures = {c: world.deprocess(protos[c].image[None])[0] for c in am_classes}
image_row([proto_pictures[c] for c in am_classes] + [real[c].images[0] for c in am_classes],
          ["prototype of %s" % names[c] for c in am_classes]
          + ["a real %s" % names[c] for c in am_classes], size=2.3)
plt.show()
print("real images per class:", {names[c]: len(real_scores[c]) for c in am_classes})
display(Markdown(sheet11_answers.prototype_answer(
    names, am_classes, {c: protos[c].score for c in am_classes},
    {c: real_scores[c].max() for c in am_classes},
    {c: probabilities(model, protos[c].image[None])[0] for c in am_classes},
    {c: float(evidence.roughness(proto_pictures[c][None])[0]) for c in am_classes},
    {c: float(evidence.roughness(real[c].images).mean()) for c in am_classes})))

# %% [markdown]
# A hidden neuron: the channel of the first convolution of block 4 (`block4_conv1`, after its
# ReLU) with the largest Gradient $\times$ Input relevance for $s_c$ of the first class, summed
# over that class's real images, maximised the same way. A ReLU channel that is 0 at the
# mean image has no gradient there, so this ascent starts from the mean image plus a little
# noise (standard deviation 10 grey levels, seeded).

# %%
c0 = am_classes[0]
gxi_conv4 = gxi.for_layer(models.CONV4_1)
neuron = int(top_neurons(gxi_conv4.absolute(c0).explain_class(
    world.preprocess(real[c0].images), desc="block4_conv1 relevance for %s" % names[c0])
    .attribution, k=1)[0][0])
q_neuron = pixels.for_neurons(models.CONV4_1, [neuron])
proto_n = prototypes.activation_maximisation(q_neuron, steps=AM_STEPS, init_noise=10.0,
                                             **AM_SETTINGS)
act_real = prototypes.scores(q_neuron, world.preprocess(real[c0].images))
image_row([world.deprocess(proto_n.image[None])[0]], ["prototype of block4_conv1 channel %d"
                                                       % neuron], size=3)
plt.show()
print("block4_conv1 channel %d: summed activation %.1f at the prototype, at most %.1f on the "
      "%s images" % (neuron, proto_n.score, act_real.max(), names[c0]))
display(Markdown("The prototype drives the channel to %.1f times its largest activation on a "
                 "real %s image%s." % (proto_n.score / act_real.max(), names[c0],
                                       "" if proto_n.score > act_real.max() else
                                       ": the ascent did not get past the real images")
                 if act_real.max() > 0 else
                 "The channel is 0 on every real %s image; the prototype reaches %.1f."
                 % (names[c0], proto_n.score)))

# %% [markdown]
# # Exercise 2: LRP on two networks that compute min
#
# The sheet's figure is not part of its text, so we fix two ReLU networks with one hidden
# layer and a linear output (weights in `theory.MIN_NETWORKS`):
#
# * **network A**: hidden units $u_1 = \mathrm{relu}(a_1)$ and $u_2 = \mathrm{relu}(a_1 - a_2)$,
#   output $y = u_1 - u_2$;
# * **network B**: hidden units $\mathrm{relu}(a_1)$, $\mathrm{relu}(a_2)$,
#   $\mathrm{relu}(a_1 - a_2)$, $\mathrm{relu}(a_2 - a_1)$, output
#   $y = \tfrac12 (u_1 + u_2 - u_3 - u_4)$.
#
# **(a)** On $a_1, a_2 \ge 0$ we have $\mathrm{relu}(a_i) = a_i$. If $a_1 \ge a_2$, then
# $\mathrm{relu}(a_1 - a_2) = a_1 - a_2$ and $\mathrm{relu}(a_2 - a_1) = 0$, so network A gives
# $a_1 - (a_1 - a_2) = a_2$ and network B gives $\tfrac12(a_1 + a_2 - (a_1 - a_2)) = a_2$,
# which is $\min(a_1, a_2)$. If $a_1 < a_2$, then $\mathrm{relu}(a_1 - a_2) = 0$ and
# $\mathrm{relu}(a_2 - a_1) = a_2 - a_1$, so A gives $a_1$ and B gives
# $\tfrac12(a_1 + a_2 - (a_2 - a_1)) = a_1$. Both compute $\min(a_1, a_2)$ on the whole
# quadrant.
#
# **(b)** Let $a_1 = a_2 = a > 0$, so $y = a$, and start from $R_y = y$. The difference
# units are 0 and get no relevance, because LRP-$\gamma$ gives unit $j$ the share
# $a_j (w_{jk} + \gamma w_{jk}^+) / \sum_{j'} \ldots$, which is 0 when $a_j = 0$.
#
# * Network A: the output layer has one active input, $u_1 = a$ (weight $+1$), so
#   $R_{u_1} = \frac{a(1+\gamma)}{a(1+\gamma)} y = a$. Only $a_1$ feeds $u_1$ (with weight 1, and
#   $a_2$ with weight 0), so $R_1 = a_1$ and $R_2 = 0$.
# * Network B: the two active units $u_1 = a_1$ and $u_2 = a_2$ both have weight $+\tfrac12$,
#   so each gets $\frac{a (1+\gamma)/2}{a (1+\gamma)} y = a/2$, and each is fed by one input alone:
#   $R_1 = a_1 / 2$ and $R_2 = a_2 / 2$.
#
# In both cases $R_1$ does not depend on $\gamma$, but it does depend on how the network is
# built: the same function gets relevance $(a, 0)$ from network A and $(a/2, a/2)$ from
# network B. LRP explains the network as it is built, not only the function it computes.
# The check below runs the project's own LRP (the rewritten model of `methods/lrp.py`, with
# LRP-$\gamma$ on both layers) on the two networks built in Keras:

# %%
grid = np.random.RandomState(0).uniform(0, 5, size=(500, 2))
a = np.array([0.5, 1.0, 2.0], np.float32)
x_eq = np.stack([a, a], axis=1).reshape(-1, 2, 1, 1)
print("a1 = a2 = a:", a.tolist())
ok_min, ok_r1 = True, True
for name in ("A", "B"):
    net = theory.keras_min_network(name)
    y = net.predict(grid.astype(np.float32).reshape(-1, 2, 1, 1))[:, 0]
    ok_min &= bool(np.allclose(y, grid.min(axis=1), atol=1e-5))
    for gamma in (0.0, 0.25, 1.0):
        lrp_net = L.lrp_model(net, gammas=[gamma], zb=False, first_gamma=gamma)
        r = Explanation(lrp_net, L.LRPRelevance()).for_input().absolute(0).explain(x_eq)
        r1 = r.attribution[:, 0, 0, 0]
        ok_r1 &= bool(np.allclose(r1, theory.r1_closed_form(name, a), rtol=1e-5))
        print("network %s, gamma = %.2f: R1 = %s  (formula: %s)"
              % (name, gamma, np.round(r1, 4).tolist(),
                 {"A": "a1", "B": "a1 / 2"}[name]))

# %% tags=["nbval-check-output"]
print("both networks compute min(a1, a2) on 500 random points:", ok_min)
print("LRP-gamma's R1 equals the formula for every a and gamma:", ok_r1)

# %% [markdown]
# # Exercise 3: Neuralising the one-class SVM
#
# **(a)** Since $\alpha_i > 0$, write $\alpha_i = \exp(\log \alpha_i)$. Then
# $$f(x) = \sum_i \exp\big(-\gamma \|x - u_i\|^2 + \log \alpha_i\big)
#        = \sum_i \exp\Big(-\gamma \big(\|x - u_i\|^2 - \gamma^{-1} \log \alpha_i\big)\Big)
#        = \sum_i \exp(-\gamma h_i),$$
# with $h_i = \|x - u_i\|^2 - \gamma^{-1}\log\alpha_i$ (layer 1, one unit per support vector).
# So $o(x) = -\frac1\gamma \log f(x) = -\frac1\gamma \log \sum_i \exp(-\gamma h_i)$ (layer 2): a
# soft min-pooling of the $h_i$.
#
# **(b)** Let $h_{\min} = \min_i h_i$. Factor $\exp(-\gamma h_{\min})$ out of the sum:
# $$o(x) = h_{\min} - \frac1\gamma \log \sum_i \exp\big(-\gamma (h_i - h_{\min})\big).$$
# Every term of the sum is in $(0, 1]$ and the minimum's term is 1, so the sum lies in
# $[1, M]$ and $0 \le h_{\min} - o(x) \le \frac{\log M}{\gamma}$. As $\gamma \to \infty$ the bound
# goes to 0, so layer 2 becomes the min-pooling $o(x) = \min_i h_i$ (and
# $h_i \to \|x - u_i\|^2$, so $o$ tends to the squared distance to the nearest support vector).
#
# Both statements, checked on random support vectors ($M = 8$ in 3 dimensions, 5 points).
# "o direct" is $-\frac1\gamma \log f(x)$ from the SVM's score $f(x)$. For large $\gamma$,
# $f(x)$ underflows to 0 in floating point, while the two-layer form (a log-sum-exp)
# stays finite: one more reason to compute $o$ as a network.

# %%
svm = theory.random_ocsvm(m=8, d=3, seed=0)
print("gamma   max |o direct - o two-layer|   max (min h - o)   log(M)/gamma")
ok_equal, ok_bound, gaps = True, True, []
for gamma in (0.5, 2.0, 8.0, 32.0, 128.0, 512.0):
    h, o = theory.neuralized_layers(svm["x"], svm["u"], svm["alpha"], gamma)
    f = theory.ocsvm_inlierness(svm["x"], svm["u"], svm["alpha"], gamma)
    if (f > 0).all():      # o = -log(f) / gamma straight from the SVM's score
        diff = np.abs(o - (-np.log(f) / gamma)).max()
        ok_equal &= bool(diff <= 1e-10 * np.abs(o).max())
    gap = theory.softmin_gap(svm["x"], svm["u"], svm["alpha"], gamma)
    ok_bound &= bool((gap >= 0).all() and (gap <= np.log(8) / gamma + 1e-12).all())
    gaps.append(gap.max())
    print("%6.1f   %28s   %15.2e   %12.2e"
          % (gamma, "%.1e" % diff if (f > 0).all() else "f(x) underflows to 0", gap.max(),
             np.log(8) / gamma))

# %% tags=["nbval-check-output"]
print("o(x) equals the two-layer network:", ok_equal)
print("0 <= min h - o <= log(M)/gamma, and the gap shrinks as gamma grows:",
      ok_bound and bool(np.all(np.diff(gaps) <= 0)))

# %% [markdown]
# # Exercise 4: Explaining the castle
#
# The sheet's image is a castle photo explained for VGG16's neuron "castle" (class 483).
# In the synthetic world a church scene stands in for it, explained for the class church.

# %%
photo = world.image_set("castle")
x = world.preprocess(photo.images)
c = int(photo.labels[0])
scores = model.predict(x)[0]
runner_up = int([k for k in np.argsort(-scores) if k != c][0])
print("explained class: %s (index %d), score %.2f; top-3 classes: %s"
      % (names[c], c, scores[c], [(names[k], round(float(scores[k]), 2))
                                  for k in np.argsort(-scores)[:3]]))
image_row(photo.images[:1], [names[c]], size=3)
plt.show()

# %% [markdown]
# ## Gradient $\times$ Input
#
# $R_i = x_i \cdot \partial s_c / \partial x_i$ (`sheet11.gradient_x_input`), with $x$ the
# model's (mean-subtracted) input, drawn like the sheet's `utils.visualize`: the sum over
# colour channels, red positive and blue negative, with limits $\pm b$,
# $b = 10\,(\text{mean}|R|^3)^{1/3}$ (values beyond are clipped; the colour bar shows $b$).

# %%
r_gxi = sheet11.gradient_x_input(x, model, c)
sheet11.visualize(r_gxi[0], title="Gradient x Input, %s" % names[c])
plt.show()

# %% [markdown]
# ## LRP by the gradient trick
#
# `methods/lrp.py` rewrites the model: each convolution computes
# $z \leftarrow p \cdot [z/p]_{\text{cst}}$ (`theano.gradient.disconnected_grad`), so the
# forward values are unchanged and the gradient carries the rule that defines $p$. This is
# what the sheet's two tasks ask for, `ConvPx` and the LRP-$\gamma$ class:
#
# * the first convolution uses the $z^B$ rule, $p_j = \sum_i x_i w_{ij} - l_i w_{ij}^+ - h_i w_{ij}^-$,
#   with $l$ and $h$ the preprocessed all-0 and all-255 images (in our mean-subtracted BGR
#   space). The positive and negative parts of the bias are taken too, as the sheet's
#   `newlayer` does, so the bias cancels in $p$;
# * every other convolution uses LRP-$\gamma$, $p_k = \sum_j a_j (w_{jk} + \gamma w_{jk}^+) + b_k + \gamma b_k^+$,
#   with $\gamma = 0.5$ in blocks 1-2, $0.25$ in block 3, $0.1$ in block 4 and $0$ in block 5;
# * the dense layers are left as they are, ReLU and max-pooling pass the gradient, and
#   $\varepsilon = 10^{-9}$ with the sign of the denominator keeps $p$ away from 0.
#
# The rewritten model is an ordinary Keras model with the same layers and shared weights.
# Gradient $\times$ Input on it, extended at the pixels by $l\,\partial l + h\,\partial h$
# (`LRPRelevance`), is LRP.

# %%
r_lrp = sheet11.lrp(x, model, c)
lrp_expl = sheet11.explainer(model, "lrp")    # the explainer behind sheet11.lrp
lrp_m = lrp_expl.model                        # the rewritten model
fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), layout="constrained")
image_row(photo.images[:1], [names[c]], axes=axes[:1])
sheet11.visualize([r_gxi[0], r_lrp[0]], ax=axes[1:],
                  title=["Gradient x Input", "LRP (z^B + LRP-gamma)"])
plt.show()
print("rules:", sheet11.rules_text(lrp_m, lrp_m.lrp_rules))
print("score s_c = %.3f; sum of LRP relevance = %.3f" % (scores[c], r_lrp.sum()))

# %% tags=["nbval-check-output"]
same = np.allclose(lrp_m.predict(x), model.predict(x), rtol=1e-4, atol=1e-4 * np.abs(scores).max())
print("the rewritten model computes the same scores:", same)
print("relevance has the input's shape:", r_lrp.shape == x.shape)

# %% [markdown]
# ## What the two explanations show
#
# The sheet observes that Gradient $\times$ Input is noisy, with a large amount of positive
# and negative evidence, and that LRP removes most of the noise, marking in red the patterns
# the network used for the class and in blue those that speak against it. Measured on the
# maps above (and, in the synthetic world, against the scene's part masks, as a ratio to
# chance: a ratio of one is as much relevance as the region's share of the image):

# %%
rel_ev = sheet11_answers.relevance_evidence({"Gradient x Input": r_gxi[0], "LRP": r_lrp[0]},
                                    {k: v[:1] for k, v in photo.masks.items()}
                                    if photo.masks else None)
display(Markdown(sheet11_answers.relevance_answer(rel_ev, names[c], float(scores[c]),
                                          float(r_lrp.sum()))))

# %% [markdown]
# ## Relevance of a hidden layer, for the class and against the runner-up
#
# Because LRP is a rewritten model, the same code gives the relevance of the channels of a
# hidden layer (here the output of `block4_conv1`), toward the class score $s_c$ and toward
# $s_c - s_{c'}$, the class against the runner-up $c'$. The latter is the difference of the
# two relevances, since the gradient is linear in the explained output.

# %%
conv4 = lrp_expl.for_layer(models.CONV4_1)
r_abs = conv4.absolute(c).explain(x).attribution[0]
r_other = conv4.absolute(runner_up).explain(x).attribution[0]
r_cmp = conv4.comparative(c, runner_up).explain(x).attribution[0]
top_abs, _ = top_neurons(r_abs, k=5, by="sum")
top_cmp, _ = top_neurons(r_cmp, k=5, by="sum")
print("block4_conv1 channels with the most relevance for %s: %s" % (names[c], top_abs.tolist()))
print("block4_conv1 channels with the most relevance for %s rather than %s: %s"
      % (names[c], names[runner_up], top_cmp.tolist()))
print("relevance at block4_conv1 sums to %.3f for s_%s (the pixels' sum: %.3f) and %.3f for s_%s"
      % (r_abs.sum(), names[c], r_lrp.sum(), r_other.sum(), names[runner_up]))
display(Markdown(sheet11_answers.overlap_answer(top_abs, top_cmp, names[c], names[runner_up],
                                        float(r_abs.sum()), float(r_other.sum()))))

# %% tags=["nbval-check-output"]
print("comparative relevance == absolute(c) - absolute(runner-up):",
      bool(np.allclose(r_cmp, r_abs - r_other, rtol=1e-4,
                       atol=1e-5 * np.abs(r_abs - r_other).max())))
