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
# # CSEP 590B (Explainable AI) HW2: feature attributions and ablation metrics
#
# This notebook answers every question of the handout (Problems 1-4). It runs on this
# bundle's model and world (chosen by `WORLD` below; the banner says which produced the saved
# outputs), with the homework's functions under their own names (`methods/csep590b.py`):
# `WORLD = "imagenet"` explains VGG16 on 50 photographs, one of each of the ImageNet classes
# 10, 30, ..., 990 (standing in for `shap.datasets.imagenet50()`, which is not reachable
# here); `WORLD = "synthetic"` explains a small classifier of generated 64x64 scenes whose
# object and part masks are known, offline. Every answer about a figure is printed from the
# numbers computed beside it (`evaluation/csep590b_answers.py`).

# %% tags=["parameters"]
# Parameters: `make run ... -p NAME VALUE` writes the values used into this cell.
WORLD = "synthetic"   # "imagenet" (VGG16 + real photos, downloads) or "synthetic" (offline)
N_SHOW = 3            # Problems 2-3: the first three images
N_EVAL = 10           # Problem 4: the first ten images
SUPERPIXEL = 8        # superpixel side (occlusion, insertion, deletion)
SIZES = None          # Problem 2(d): superpixel sides; None: SUPERPIXEL/2, SUPERPIXEL, 2 SUPERPIXEL
BLURS = None          # Problem 2(e): blur sigmas in pixels; None: 1, 2, 4 px per 64 px of image
SAMPLES = 50          # SmoothGrad: noisy samples
SIGMA = 0.1           # SmoothGrad: noise level, a fraction of the image's value range
STEPS = 50            # Integrated Gradients: Riemann steps
SG_SIGMAS = None      # 3(b): noise levels compared; None: SIGMA/2, SIGMA, 2 SIGMA
STEP = None           # superpixels per insertion/deletion point; None: 1 (synthetic), 16 (ImageNet)
BATCH = None          # masked copies per forward; None: 64 (synthetic), 16 (ImageNet)

# %%
import hw3_env  # Keras on Theano, channels first, float32: must come first

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import test_data
from evaluation import csep590b_answers as answers
from evaluation.ablation import ablation_curves
from methods import baselines
from methods.csep590b import (auc, deletion, insertion, integrated_gradients, occlusion,
                              random_map, smoothgrad, superpixel_sum, vanilla_gradients)
from methods.scores import probabilities
from VisualizerTiler import curves_plot, heatmap_row, image_row

np.random.seed(0)
# %matplotlib inline

world = test_data.load_world(WORLD)
model = world.model()
names = world.class_names
S = world.image_size
SIZES = SIZES or [SUPERPIXEL // 2, SUPERPIXEL, 2 * SUPERPIXEL]
SG_SIGMAS = SG_SIGMAS or [SIGMA / 2, SIGMA, 2 * SIGMA]
BLURS = BLURS or [round(b * S / 64.0, 1) for b in (1, 2, 4)]
STEP = STEP or (1 if WORLD == "synthetic" else 16)
BATCH = BATCH or (64 if WORLD == "synthetic" else 16)
display(Markdown(world.banner(notebook="notebooks/csep590b_hw2.ipynb",
                              superpixel=SUPERPIXEL, SmoothGrad_samples=SAMPLES,
                              sigma=SIGMA, IG_steps=STEPS, insertion_deletion_step=STEP)))

# %% [markdown]
# # 1. Feature attributions and metrics
#
# **Grad × Input, SmoothGrad and Integrated Gradients.** All three differentiate the model's
# output for the explained class with respect to the input pixels; they differ in *where*
# the gradient is taken and what it is multiplied by. *Grad × Input* takes the gradient at
# the image itself and multiplies it elementwise by the input (the input minus a baseline
# in general), turning a local sensitivity into a contribution: a pixel matters if the output
# is sensitive to it *and* it is far from zero. *SmoothGrad* averages the gradient (or its
# absolute value) over many copies of the image with Gaussian noise added, which removes the
# high-frequency noise of a single gradient and gives a visually sharper sensitivity map; it
# does not multiply by the input. *Integrated Gradients* averages the gradient along the
# straight path from a baseline image to the image and multiplies by (image − baseline); the
# attributions then add up to the output's change from the baseline to the image
# (completeness).
#
# **How Grad-CAM uses gradients.** Grad-CAM does not differentiate with respect to the pixels
# but with respect to the feature maps of the last convolutional layer.
# It averages the gradient of the class score over each feature map's spatial positions to
# get one weight per channel (how much the class depends on that channel), forms the
# weighted sum of the feature maps, keeps its positive part (ReLU), and upsamples the
# resulting coarse map to the image size to show which regions of the image support the
# class.
#
# **Ground truth comparisons or ablation metrics?** Ablation metrics are the more suitable
# test of whether an explanation identifies the features that are important *to a specific
# model*: they ask that model itself how its prediction changes when the features the
# explanation ranks highly are removed or inserted. A ground-truth comparison checks the
# explanation against what a human (or the data generator) considers important, which says
# nothing about the model when the model relies on other features (a background, a
# watermark): a faithful explanation of such a model must disagree with the ground truth.

# %% [markdown]
# # 2. Occlusion
#
# ## (a) The first three images

# %%
sample = test_data.sample50(world)
x = world.preprocess(sample.images)
image_row(sample.images[:N_SHOW], ["image %d: %s" % (i, sample.class_names[i])
                                   for i in range(N_SHOW)])
plt.show()

# %% [markdown]
# ## (b) Predicted classes

# %%
probs = probabilities(model, x)
pred = probs.argmax(axis=1)
for i in range(N_SHOW):
    print("image %d: predicted %-14s p = %.3f   (label: %s)"
          % (i, names[pred[i]], probs[i, pred[i]], sample.class_names[i]))
print("accuracy on all %d images: %.2f" % (len(x), np.mean(pred == sample.labels)))
labels = ["image %d (%s)" % (i, names[pred[i]]) for i in range(len(x))]
right = int(np.sum(pred[:N_SHOW] == sample.labels[:N_SHOW]))
display(Markdown("The model predicts %s; %d of the first %d predictions match the labels, "
                 "%d of all %d." % (", ".join("%s with p_t = %.3f" % (names[pred[i]],
                                                                        probs[i, pred[i]])
                                              for i in range(N_SHOW)),
                                    right, N_SHOW, int(np.sum(pred == sample.labels)), len(x))))

# %% [markdown]
# ## (c) Occlusion with the black baseline, 8×8 superpixels
#
# `occlusion(imgs, model, target_labels, baseline, superpixel_size)` replaces each
# non-overlapping superpixel by the baseline (many occluded copies per forward batch) and
# scores it by $p_t(x) - p_t(x \text{ with that superpixel replaced})$, with $t$ the
# predicted class. Red: removing the superpixel lowers $p_t$ (important); blue: removing it
# raises $p_t$. The three maps share one colour scale (scores are probability changes).

# %%
black = baselines.black(S, world.preprocess)
occ = occlusion(x[:N_SHOW], model, pred[:N_SHOW], black, superpixel_size=SUPERPIXEL,
                masks_per_call=BATCH)
image_row(sample.images[:N_SHOW], labels[:N_SHOW])
plt.show()
heatmap_row(occ, ["occlusion %dx%d, image %d" % (SUPERPIXEL, SUPERPIXEL, i) for i in range(N_SHOW)],
            cmap="Occlusion")
plt.show()
p_black_all = probabilities(model, black[None])[0]
for i in range(N_SHOW):
    print("image %d (%s): occlusion scores from %.3f to %.3f; p_t(black image) = %.3f"
          % (i, names[pred[i]], occ[i].min(), occ[i].max(), p_black_all[pred[i]]))

# %% [markdown]
# **What the occlusion maps show.** For each image: the two strongest cells and (in the
# synthetic world, whose part masks are known) the regions under them, the class the model
# predicts when the strongest cell is blacked out, and where the map's positive mass falls
# as a ratio to chance (a ratio of one: as much as the region's share of the image).

# %%
occ_ev = [answers.occlusion_evidence(occ[i], x[i], model, pred[i], black, SUPERPIXEL,
                                     answers.image_masks(sample.masks, i))
          for i in range(N_SHOW)]
display(Markdown("\n\n".join(answers.occlusion_sentence(labels[i], occ_ev[i], names)
                               for i in range(N_SHOW))
                 + "\n\n" + answers.occlusion_summary(occ_ev, labels[:N_SHOW], names)))

# %% tags=["nbval-check-output"]
print("occlusion maps have the images' shape (N, H, W):", occ.shape == (N_SHOW, S, S))
print("each superpixel holds one value:", bool(np.all(occ[:, ::SUPERPIXEL, ::SUPERPIXEL].repeat(
    SUPERPIXEL, 1).repeat(SUPERPIXEL, 2) == occ)))

# %% [markdown]
# ## (d) Superpixel sizes compared (first image)

# %%
occ_sizes = [occlusion(x[:1], model, pred[:1], black, superpixel_size=s, masks_per_call=BATCH)[0]
             for s in SIZES]
heatmap_row(occ_sizes, ["%dx%d superpixels" % (s, s) for s in SIZES], cmap="Occlusion",
            suptitle="occlusion of image 0 (%s)" % names[pred[0]])
plt.show()
display(Markdown(answers.sizes_answer(SIZES, occ_sizes, S, answers.image_masks(sample.masks, 0))))

# %% [markdown]
# ## (e) Blurred baselines (first image, 8×8 superpixels)
#
# The baseline is a Gaussian blur of the image itself (`scipy.ndimage.gaussian_filter`,
# standard deviation in pixels), preprocessed like the image: an occluded superpixel keeps
# its coarse colour and loses its detail.

# %%
blurred_pictures = [baselines.blur_images(sample.images[0], b) for b in BLURS]
occ_blur = [occlusion(x[:1], model, pred[:1], baselines.blurred(sample.images[0], b,
                                                                world.preprocess),
                      superpixel_size=SUPERPIXEL, masks_per_call=BATCH)[0] for b in BLURS]
occ_black0 = occlusion(x[:1], model, pred[:1], black, superpixel_size=SUPERPIXEL,
                       masks_per_call=BATCH)[0] if SUPERPIXEL not in SIZES else occ_sizes[SIZES.index(SUPERPIXEL)]
image_row([sample.images[0]] + blurred_pictures,
          ["image 0"] + ["blur sigma = %g px" % b for b in BLURS])
plt.show()
heatmap_row([occ_black0] + occ_blur,
            ["black baseline"] + ["blurred baseline, sigma = %g" % b for b in BLURS],
            cmap="Occlusion", shared=False)
plt.show()
display(Markdown(answers.blur_answer(BLURS, occ_black0, occ_blur, SUPERPIXEL,
                                     answers.image_masks(sample.masks, 0))))

# %% [markdown]
# # 3. Gradient-based explanations
#
# ## (a) Vanilla gradients
#
# `vanilla_gradients` is the gradient of $p_t$ at the image, in absolute
# value and summed over the colour channels.

# %%
van = vanilla_gradients(x[:N_SHOW], model, pred[:N_SHOW])
heatmap_row(van, ["vanilla gradients, image %d" % i for i in range(N_SHOW)],
            cmap="Vanilla gradients", signed=False, shared=False)
plt.show()

# %% [markdown]
# ## (b) SmoothGrad
#
# `smoothgrad` averages $|\partial p_t / \partial x|$ over `SAMPLES` noisy copies
# $x + \epsilon$, $\epsilon \sim N(0, \sigma_{abs}^2 I)$ with $\sigma_{abs}$ = `SIGMA` ×
# (x_max − x_min) of the image (the SmoothGrad paper's noise level), the absolute value taken
# *before* averaging (as Captum's `NoiseTunnel(Saliency(abs=True))`), and sums the channels.

# %%
sg = smoothgrad(x[:N_SHOW], model, pred[:N_SHOW], samples=SAMPLES, sigma=SIGMA)
heatmap_row(sg, ["SmoothGrad, image %d" % i for i in range(N_SHOW)],
            cmap="SmoothGrad", signed=False, shared=False)
plt.show()

# %% [markdown]
# **The noise level.** The handout leaves $\sigma$ to us. Every SmoothGrad map of this
# notebook uses `SIGMA` (a fraction of the image's value range, as in the SmoothGrad paper);
# here are the same images at half and twice that level, with what each map concentrates on:

# %%
sg_levels = {s_: (sg if s_ == SIGMA else smoothgrad(x[:N_SHOW], model, pred[:N_SHOW],
                                                    samples=SAMPLES, sigma=s_))
             for s_ in SG_SIGMAS}
heatmap_row([m[0] for m in sg_levels.values()], ["SmoothGrad, sigma = %g" % s_ for s_ in sg_levels],
            cmap="SmoothGrad", signed=False, shared=False, suptitle="image 0")
plt.show()
masks_show = None if sample.masks is None else {k: v[:N_SHOW] for k, v in sample.masks.items()}
display(Markdown(answers.gradient_answer(answers.gradient_evidence(
    {"sigma = %g" % s_: m for s_, m in sg_levels.items()}, masks_show), labels[:N_SHOW])))

# %% tags=["nbval-check-output"]
# equal up to float32 rounding, which depends on the batch a gradient is computed in
print("SmoothGrad with sigma = 0 equals vanilla gradients:",
      bool(np.allclose(smoothgrad(x[:1], model, pred[:1], samples=2, sigma=0.0), van[:1],
                       rtol=1e-4, atol=1e-3 * np.abs(van[:1]).max())))

# %% [markdown]
# ## (c) Integrated Gradients, black baseline

# %%
ig_black = integrated_gradients(x[:N_SHOW], model, pred[:N_SHOW], black, steps=STEPS)
heatmap_row(ig_black, ["IG (black), image %d" % i for i in range(N_SHOW)],
            cmap="Integrated Gradients", signed=False, shared=False)
plt.show()

# %% [markdown]
# ## (d) Integrated Gradients, white baseline

# %%
white = baselines.white(S, world.preprocess)
ig_white = integrated_gradients(x[:N_SHOW], model, pred[:N_SHOW], white, steps=STEPS)
heatmap_row(ig_white, ["IG (white), image %d" % i for i in range(N_SHOW)],
            cmap="Integrated Gradients", signed=False, shared=False)
plt.show()
p_black, p_white = probabilities(model, np.stack([black, white]))[:, pred[:N_SHOW]]
for i in range(N_SHOW):
    print("image %d (%s): p_t(image) = %.3f, p_t(black) = %.3f, p_t(white) = %.3f"
          % (i, names[pred[i]], probs[i, pred[i]], p_black[i], p_white[i]))

# %% [markdown]
# **Gradient maps (3(a)-(d)).** Each map above has its own colour scale (its colour bar gives
# it). What each method concentrates on, per image: the share of
# its mass in its brightest 10% of pixels (10% for a map spread evenly) and, in the
# synthetic world, its ratio to chance on the object and the region it favours most. Then
# completeness for Integrated Gradients with each baseline. Pixels whose colour equals the
# baseline's get no IG attribution whatever the model does, since IG multiplies by
# (image - baseline): a black baseline cannot credit black pixels, a white one white pixels.

# %%
grad_ev = answers.gradient_evidence({"Vanilla gradients": van, "SmoothGrad": sg,
                                     "IG (black)": ig_black, "IG (white)": ig_white},
                                    masks_show)
p_img = probs[np.arange(N_SHOW), pred[:N_SHOW]]
display(Markdown(answers.gradient_answer(grad_ev, labels[:N_SHOW]) + "\n\n"
                 + answers.completeness_answer(labels[:N_SHOW], p_img, p_black,
                                               ig_black.reshape(N_SHOW, -1).sum(axis=1), "black")
                 + "\n\n"
                 + answers.completeness_answer(labels[:N_SHOW], p_img, p_white,
                                               ig_white.reshape(N_SHOW, -1).sum(axis=1), "white")))

# %% [markdown]
# # 4. Ablation metrics
#
# ## (a) Explanations of the first ten images
#
# Occlusion with 8×8 superpixels and the black baseline, SmoothGrad with `SAMPLES` samples
# and noise level `SIGMA`, and a Random map of i.i.d. Gaussian noise (seeded), each for the
# predicted class.

# %%
xe, te = x[:N_EVAL], pred[:N_EVAL]
maps = {"Occlusion": occlusion(xe, model, te, black, superpixel_size=SUPERPIXEL,
                               masks_per_call=BATCH),
        "SmoothGrad": smoothgrad(xe, model, te, samples=SAMPLES, sigma=SIGMA),
        "Random": random_map((len(xe), S, S), seed=0)}
SHOW, show_why = answers.pick_curve_image(p_black_all[te])   # the image shown below
display(Markdown(show_why))
fig, axes = plt.subplots(1, 4, figsize=(13, 3.1), layout="constrained")
image_row(sample.images[SHOW:SHOW + 1], [labels[SHOW]], axes=axes[:1])
for ax, n in zip(axes[1:], maps):
    heatmap_row([maps[n][SHOW]], [n], cmap=n, signed=n != "SmoothGrad", axes=[ax])
fig.suptitle("Each map on its own colour scale", fontsize=10)
plt.show()

# %% [markdown]
# ## (b) Summed over 8×8 superpixels

# %%
grid = {name: superpixel_sum(m, SUPERPIXEL) for name, m in maps.items()}
fig, axes = plt.subplots(1, 3, figsize=(10, 3.1), layout="constrained")
for ax, n in zip(axes, grid):
    heatmap_row([grid[n][SHOW]], ["%s, %dx%d superpixels" % (n, SUPERPIXEL, SUPERPIXEL)],
                cmap=n, signed=n != "SmoothGrad", axes=[ax])
fig.suptitle("Each map on its own colour scale", fontsize=10)
plt.show()

# %% tags=["nbval-check-output"]
print("superpixel maps are (N, H/s, W/s):",
      all(g.shape == (N_EVAL, S // SUPERPIXEL, S // SUPERPIXEL) for g in grid.values()))

# %% [markdown]
# ## (c) Insertion (one image, Occlusion)
#
# `insertion` starts from the black baseline and inserts the image's superpixels in order of
# decreasing importance, reading $p_t$ after each step; the area under the curve is the
# trapezoid rule over the fraction of superpixels inserted. Both single-image curves use the
# image chosen in (a).

# %%
ins, k_ins = insertion(xe[SHOW:SHOW + 1], model, grid["Occlusion"][SHOW:SHOW + 1], int(te[SHOW]),
                       black, step=STEP, masks_per_call=BATCH)
curves_plot({"Occlusion": (k_ins, ins)}, "p_t", "insertion, %s" % labels[SHOW])
plt.show()
print("insertion AUC (Occlusion, image %d): %.3f" % (SHOW, auc(ins, k_ins)))

# %% [markdown]
# ## (d) Deletion (one image, Occlusion)

# %%
dele, k_del = deletion(xe[SHOW:SHOW + 1], model, grid["Occlusion"][SHOW:SHOW + 1], int(te[SHOW]),
                       black, step=STEP, masks_per_call=BATCH)
curves_plot({"Occlusion": (k_del, dele)}, "p_t", "deletion, %s" % labels[SHOW])
plt.show()
print("deletion AUC (Occlusion, image %d): %.3f" % (SHOW, auc(dele, k_del)))
display(Markdown(answers.curve_answer(k_ins, ins, dele,
                                      maps["Occlusion"][SHOW][::SUPERPIXEL, ::SUPERPIXEL].ravel(),
                                      probs[SHOW, te[SHOW]])))

# %% tags=["nbval-check-output"]
ends = probabilities(model, np.stack([black, xe[SHOW]]))[:, te[SHOW]]
# equal up to float32 rounding, which depends on the batch a score is computed in
print("insertion runs from p_t(baseline) to p_t(image):", bool(np.allclose(ins[[0, -1]], ends, atol=1e-4)))
print("deletion runs from p_t(image) to p_t(baseline):", bool(np.allclose(dele[[0, -1]], ends[::-1], atol=1e-4)))

# %% [markdown]
# ## (e) Insertion curves, ten images, three methods

# %%
curves_ins = ablation_curves(xe, model, grid, te, black, "insertion", step=STEP, masks_per_call=BATCH)
curves_plot({n: (k, c.mean(axis=0)) for n, (c, k, _) in curves_ins.items()}, "mean p_t",
            "insertion, mean over %d images" % N_EVAL)
plt.show()
for n, (_, _, a) in curves_ins.items():
    print("average insertion AUC, %-10s: %.3f" % (n, a.mean()))

# %% [markdown]
# ## (f) Deletion curves, ten images, three methods

# %%
curves_del = ablation_curves(xe, model, grid, te, black, "deletion", step=STEP, masks_per_call=BATCH)
curves_plot({n: (k, c.mean(axis=0)) for n, (c, k, _) in curves_del.items()}, "mean p_t",
            "deletion, mean over %d images" % N_EVAL)
plt.show()
for n, (_, _, a) in curves_del.items():
    print("average deletion AUC, %-10s: %.3f" % (n, a.mean()))

# %% [markdown]
# **Ablation metrics (4(e)-(f)).** The average AUCs ranked, the mean deletion curves at two
# points, and where the curves cross:

# %%
display(Markdown(answers.mean_curves_answer(curves_ins, curves_del, p_black_all[te].mean())))

# %% [markdown]
# ## Ground truth (synthetic world only)
#
# The synthetic scenes come with the object's mask, so we can also ask how much of each
# method's positive map falls on the object (a ground-truth comparison, Problem 1's other
# kind of metric): the share of positive mass inside the mask, and the ratio to chance (that
# share divided by the region's share of the image; a ratio of one is chance) on the object, the
# distractor shapes and the rest of the background.

# %%
if sample.masks is not None:
    ig_eval = integrated_gradients(xe, model, te, black, steps=STEPS)
    ranks = {kind: sorted(c, key=lambda n: (-1 if kind == "insertion" else 1) * c[n][2].mean())
             for kind, c in (("insertion", curves_ins), ("deletion", curves_del))}
    display(Markdown(answers.ground_truth_answer(
        {"Occlusion": maps["Occlusion"], "SmoothGrad": maps["SmoothGrad"],
         "IG (black)": ig_eval, "Random": maps["Random"]},
        {k: v[:N_EVAL] for k, v in sample.masks.items()}, ranks)
        + "\n\nA ground-truth comparison measures agreement with where the object is; an "
        "ablation metric measures what the model relies on (Problem 1's last question). "
        "Where the two rankings differ, only the ablation metric speaks about the model."))
else:
    print("The ImageNet world has no object masks: this check runs in the synthetic world.")
