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
# This notebook answers every question of the handout (Problems 1-4) on our stack instead of
# the handout's ResNet-18 in PyTorch: the course's VGG16 in Keras/Theano. The methods are
# pieces of the same Explanation chain as the 18-739 HW3 notebook: a *slice* (here the
# input pixels), a *quantity of interest* (QoI: the target class's softmax probability
# $p_t$, `methods/quantities.py`) and a *distribution of interest* (DoI: the point, a
# Gaussian around the image, or the straight path from a baseline, `methods/distributions.py`
# and `AumannShapley.py`). The removal methods (occlusion, insertion, deletion) share one
# batched forward engine (`methods/removal.py`); the baselines are in `methods/baselines.py`.
# The homework's functions, with its names and signatures, are thin wrappers in
# `methods/csep590b.py`.
#
# **Two worlds, one code path.** `WORLD = "imagenet"` explains VGG16 with its ImageNet
# weights on 50 real photographs, one of each of the classes 10, 30, ..., 990 (the handout's
# `shap.datasets.imagenet50()` is not reachable here; `test_data.sample50`).
# `WORLD = "synthetic"` explains a small model of the VGG16 layout trained on generated
# 64x64 scenes with ground-truth object masks (50 held-out scenes, 5 per class), offline.
# The banner below says which world produced the saved outputs.

# %% tags=["parameters"]
# Parameters (papermill injects new values after this cell).
WORLD = "synthetic"   # "imagenet" (VGG16 + real photos, downloads) or "synthetic" (offline)
N_SHOW = 3            # Problems 2-3: the first three images
N_EVAL = 10           # Problem 4: the first ten images
SUPERPIXEL = 8        # superpixel side (occlusion, insertion, deletion)
SIZES = None          # Problem 2(d): superpixel sides; None: SUPERPIXEL/2, SUPERPIXEL, 2 SUPERPIXEL
BLURS = None          # Problem 2(e): blur sigmas in pixels; None: 1, 2, 4 px per 64 px of image
SAMPLES = 50          # SmoothGrad: noisy samples
SIGMA = 0.1           # SmoothGrad: noise level, a fraction of the image's value range
STEPS = 50            # Integrated Gradients: Riemann steps
STEP = None           # superpixels per insertion/deletion point; None: 1 (synthetic), 16 (ImageNet)
BATCH = None          # masked copies per forward; None: 64 (synthetic), 16 (ImageNet)

# %%
import hw3_env  # Keras on Theano, channels first, float32: must come first

import numpy as np
from IPython.display import Markdown, display

import test_data
from methods import baselines
from methods.csep590b import (ablation_curves, auc, deletion, insertion,
                              integrated_gradients, object_share, occlusion, plot_curves,
                              random_map, show_images, show_maps, smoothgrad, superpixel_sum,
                              vanilla_gradients)
from methods.quantities import probabilities

np.random.seed(0)
# %matplotlib inline

world = test_data.load_world(WORLD)
model = world.model()
names = world.class_names
S = world.image_size
SIZES = SIZES or [SUPERPIXEL // 2, SUPERPIXEL, 2 * SUPERPIXEL]
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
# (completeness). In the language of Leino et al. the three are one influence
# $\mathbb{E}_{z\sim P}[\partial Q/\partial z]$ with three distributions of interest $P$ (the
# point, a Gaussian around the image, the path), with or without the difference term.
#
# **How Grad-CAM uses gradients.** Grad-CAM does not differentiate with respect to the pixels
# but with respect to the feature maps of the last convolutional layer (an internal slice).
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
show_images(sample.images[:N_SHOW], ["image %d: %s" % (i, sample.class_names[i])
                                     for i in range(N_SHOW)])

# %% [markdown]
# ## (b) Predicted classes

# %%
probs = probabilities(model, x)
pred = probs.argmax(axis=1)
for i in range(N_SHOW):
    print("image %d: predicted %-14s p = %.3f   (label: %s)"
          % (i, names[pred[i]], probs[i, pred[i]], sample.class_names[i]))
print("accuracy on all %d images: %.2f" % (len(x), np.mean(pred == sample.labels)))

# %% [markdown]
# ## (c) Occlusion with the black baseline, 8×8 superpixels
#
# `occlusion(imgs, model, target_labels, baseline, superpixel_size)` replaces each
# non-overlapping superpixel by the baseline (many occluded copies per forward batch) and
# scores it by $p_t(x) - p_t(x \text{ with that superpixel replaced})$, with $t$ the
# predicted class. Red: removing the superpixel lowers $p_t$ (important); blue: removing it
# raises $p_t$.

# %%
black = baselines.black(S, world.preprocess)
occ = occlusion(x[:N_SHOW], model, pred[:N_SHOW], black, superpixel_size=SUPERPIXEL,
                batch_size=BATCH)
show_images(sample.images[:N_SHOW], [names[pred[i]] for i in range(N_SHOW)])
show_maps(occ, ["occlusion %dx%d, image %d" % (SUPERPIXEL, SUPERPIXEL, i) for i in range(N_SHOW)])
p_black_all = probabilities(model, black[None])[0]
for i in range(N_SHOW):
    print("image %d (%s): occlusion scores from %.3f to %.3f; p_t(black image) = %.3f"
          % (i, names[pred[i]], occ[i].min(), occ[i].max(), p_black_all[pred[i]]))

# %%
# NBVAL_CHECK_OUTPUT
print("occlusion maps have the images' shape (N, H, W):", occ.shape == (N_SHOW, S, S))
print("each superpixel holds one value:", bool(np.all(occ[:, ::SUPERPIXEL, ::SUPERPIXEL].repeat(
    SUPERPIXEL, 1).repeat(SUPERPIXEL, 2) == occ)))

# %% [markdown]
# ## (d) Superpixel sizes compared (first image)

# %%
occ_sizes = [occlusion(x[:1], model, pred[:1], black, superpixel_size=s, batch_size=BATCH)[0]
             for s in SIZES]
show_maps(occ_sizes, ["%dx%d superpixels" % (s, s) for s in SIZES],
          suptitle="occlusion of image 0 (%s)" % names[pred[0]])
for s, m in zip(SIZES, occ_sizes):
    print("%2dx%-2d superpixels: largest score %.3f, %d of %d superpixels above 0.01"
          % (s, s, m.max(), (m[::s, ::s] > 0.01).sum(), (S // s) ** 2))

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
                      superpixel_size=SUPERPIXEL, batch_size=BATCH)[0] for b in BLURS]
show_images([sample.images[0]] + blurred_pictures,
            ["image 0"] + ["blur sigma = %g px" % b for b in BLURS])
show_maps([occ_sizes[SIZES.index(SUPERPIXEL)]] + occ_blur,
          ["black baseline"] + ["blurred baseline, sigma = %g" % b for b in BLURS])
for b, m in zip(BLURS, occ_blur):
    print("blur sigma %5.1f px: largest occlusion score %.3f, sum of positive scores per "
          "superpixel %.3f" % (b, m.max(), np.maximum(m, 0)[::SUPERPIXEL, ::SUPERPIXEL].sum()))

# %% [markdown]
# **What the occlusion maps show (2(c)-(e)).** The surrogate classifies the first three
# scenes correctly and with confidence (a starfish, a sports car and a convertible, each
# with $p_t \ge 0.997$; 47 of the 50 scenes are classified correctly). With the black
# baseline, occlusion is red almost only on and around the object: the centre and arms of
# the starfish, the roof and upper body of the sports car, and the windshield and seats of
# the convertible (in this world the roof is the only systematic difference between the two
# cars, and the model relies on it); the background superpixels score close to 0, and no
# superpixel scores noticeably below 0 (the lowest score of the three maps is −0.002). The
# sports car and the convertible each have superpixels whose removal alone drops $p_t$ from
# about 1 to almost 0 (largest scores 0.999 and 0.997): the model's decision hangs on a few
# parts. The starfish is a special case: the surrogate classifies the black picture itself
# as a starfish ($p_t$(black) = 1.000), so a black patch on the starfish never contradicts
# the class; still, blacking out the centre of the star drops $p_t$ by up to 0.532.
#
# **Superpixel size (2(d)).** The 4×4 map is the sharpest: it outlines the star's centre
# and arms, with 27 of 256 superpixels scoring above 0.01 and the largest score of the
# three (0.922). At 8×8, 20 of 64 superpixels score above 0.01 (largest 0.532); at 16×16,
# 6 of 16 (largest 0.423), and one superpixel is a quarter of the scene's side, so the map
# only says which quadrant matters. Larger superpixels do not simply give larger scores:
# a grid cell that happens to cut a part in two removes half of it from two cells, while a
# small patch can cover exactly the part the model relies on. Small superpixels cost more
# forwards (256 against 64 and 16) and give noisier maps on photographs; 8×8 keeps the
# object's shape visible at a quarter of the cost of 4×4.
#
# **Blurred baselines (2(e)).** With a blurred copy of the image as the baseline, occluding
# a superpixel removes only its fine detail and keeps its colour, so the scores are much
# smaller than with black (largest 0.005, 0.006 and 0.012 for blur sigmas of 1, 2 and
# 4 pixels, against 0.532 with black): the blurred starfish is still a starfish to the
# model. The stronger the blur, the more information an occlusion removes and the larger
# the scores. Unlike the black baseline, blurred baselines also give blue superpixels
# (replacing them by their blurred version raises $p_t$) and put the red mass on the edges
# and arms of the star, where blurring destroys the shape: they explain which *details*
# matter, while the black baseline explains which *regions* matter. The choice of baseline
# changes the explanation, which is the main lesson of this part.

# %% [markdown]
# # 3. Gradient-based explanations
#
# ## (a) Vanilla gradients
#
# `vanilla_gradients` is the gradient of $p_t$ at the image (the point DoI), in absolute
# value and summed over the colour channels.

# %%
van = vanilla_gradients(x[:N_SHOW], model, pred[:N_SHOW])
show_maps(van, ["vanilla gradients, image %d" % i for i in range(N_SHOW)], signed=False)

# %% [markdown]
# ## (b) SmoothGrad
#
# `smoothgrad` averages $|\partial p_t / \partial x|$ over `SAMPLES` noisy copies
# $x + \epsilon$, $\epsilon \sim N(0, \sigma_{abs}^2 I)$ with $\sigma_{abs}$ = `SIGMA` ×
# (x_max − x_min) of the image (the SmoothGrad paper's noise level), the absolute value taken
# *before* averaging (as Captum's `NoiseTunnel(Saliency(abs=True))`), and sums the channels.

# %%
sg = smoothgrad(x[:N_SHOW], model, pred[:N_SHOW], samples=SAMPLES, sigma=SIGMA)
show_maps(sg, ["SmoothGrad, image %d" % i for i in range(N_SHOW)], signed=False)

# %%
# NBVAL_CHECK_OUTPUT
print("SmoothGrad with sigma = 0 equals vanilla gradients:",
      bool(np.allclose(smoothgrad(x[:1], model, pred[:1], samples=2, sigma=0.0), van[:1],
                       rtol=1e-5, atol=1e-12)))

# %% [markdown]
# ## (c) Integrated Gradients, black baseline

# %%
ig_black = integrated_gradients(x[:N_SHOW], model, pred[:N_SHOW], black, steps=STEPS)
show_maps(ig_black, ["IG (black), image %d" % i for i in range(N_SHOW)], signed=False)

# %% [markdown]
# ## (d) Integrated Gradients, white baseline

# %%
white = baselines.white(S, world.preprocess)
ig_white = integrated_gradients(x[:N_SHOW], model, pred[:N_SHOW], white, steps=STEPS)
show_maps(ig_white, ["IG (white), image %d" % i for i in range(N_SHOW)], signed=False)
p_black, p_white = probabilities(model, np.stack([black, white]))[:, pred[:N_SHOW]]
for i in range(N_SHOW):
    print("image %d (%s): p_t(image) = %.3f, p_t(black) = %.3f, p_t(white) = %.3f"
          % (i, names[pred[i]], probs[i, pred[i]], p_black[i], p_white[i]))

# %% [markdown]
# **Gradient maps (3(a)-(d)).** The vanilla gradient maps are speckled: they light up many
# isolated pixels over the object and also in the background (most visibly for the
# starfish), because the gradient of a ReLU network changes abruptly from pixel to pixel.
# SmoothGrad, which averages $|\nabla p_t|$ over 50 noisy copies, gives smoother maps whose
# mass concentrates on the object (the car's body and wheels, the convertible's cabin);
# it is the cleanest of the gradient maps here. Integrated Gradients with the black baseline
# is sparse: a few pixels on the object carry most of the attribution. It depends strongly
# on the baseline: for the starfish, $p_t$(image) − $p_t$(black) = 0.997 − 1.000 is almost
# 0, so by completeness the signed IG attributions add up to about −0.003, and the map we plot
# (the sum of $|\mathrm{IG}|$) shows positive and negative contributions that cancel. With
# the white baseline (3(d)), $p_t$(white) is 0.990 for the starfish and 0.000 for the two
# cars, and the maps move to the pixels that differ most from white: the dark wheels of the
# sports car and the dark seat and wheels of the convertible. Pixels that are already close to
# the baseline's colour can never receive attribution, because IG multiplies by
# (image − baseline).

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
                               batch_size=BATCH),
        "SmoothGrad": smoothgrad(xe, model, te, samples=SAMPLES, sigma=SIGMA),
        "Random": random_map((len(xe), S, S), seed=0)}
SHOW = 1 if N_EVAL > 1 else 0   # see the answer below: the black picture is a "starfish"
show_images(sample.images[SHOW:SHOW + 1], ["image %d: %s" % (SHOW, names[te[SHOW]])])
show_maps([maps["Occlusion"][SHOW], maps["SmoothGrad"][SHOW], maps["Random"][SHOW]],
          ["Occlusion", "SmoothGrad", "Random"])

# %% [markdown]
# ## (b) Summed over 8×8 superpixels

# %%
grid = {name: superpixel_sum(m, SUPERPIXEL) for name, m in maps.items()}
show_maps([grid[n][SHOW] for n in grid], ["%s, %dx%d superpixels" % (n, SUPERPIXEL, SUPERPIXEL)
                                          for n in grid])

# %%
# NBVAL_CHECK_OUTPUT
print("superpixel maps are (N, H/s, W/s):",
      all(g.shape == (N_EVAL, S // SUPERPIXEL, S // SUPERPIXEL) for g in grid.values()))

# %% [markdown]
# ## (c) Insertion (one image, Occlusion)
#
# `insertion` starts from the black baseline and inserts the image's superpixels in order of
# decreasing importance, reading $p_t$ after each step; the area under the curve is the
# trapezoid rule over the fraction of superpixels inserted.

# %%
ins, k_ins = insertion(xe[SHOW:SHOW + 1], model, grid["Occlusion"][SHOW:SHOW + 1], int(te[SHOW]),
                       black, step=STEP, batch_size=BATCH)
plot_curves({"Occlusion": (k_ins, ins)}, "p_t", "insertion, image %d (%s)" % (SHOW, names[te[SHOW]]))
print("insertion AUC (Occlusion, image %d): %.3f" % (SHOW, auc(ins, k_ins)))

# %% [markdown]
# ## (d) Deletion (one image, Occlusion)

# %%
dele, k_del = deletion(xe[SHOW:SHOW + 1], model, grid["Occlusion"][SHOW:SHOW + 1], int(te[SHOW]),
                       black, step=STEP, batch_size=BATCH)
plot_curves({"Occlusion": (k_del, dele)}, "p_t", "deletion, image %d (%s)" % (SHOW, names[te[SHOW]]))
print("deletion AUC (Occlusion, image %d): %.3f" % (SHOW, auc(dele, k_del)))

# %%
# NBVAL_CHECK_OUTPUT
ends = probabilities(model, np.stack([black, xe[SHOW]]))[:, te[SHOW]]
print("insertion runs from p_t(baseline) to p_t(image):", bool(np.allclose(ins[[0, -1]], ends, atol=1e-5)))
print("deletion runs from p_t(image) to p_t(baseline):", bool(np.allclose(dele[[0, -1]], ends[::-1], atol=1e-5)))

# %% [markdown]
# ## (e) Insertion curves, ten images, three methods

# %%
curves_ins = ablation_curves(xe, model, grid, te, black, "insertion", step=STEP, batch_size=BATCH)
plot_curves({n: (k, c.mean(axis=0)) for n, (c, k, _) in curves_ins.items()}, "mean p_t",
            "insertion, mean over %d images" % N_EVAL)
for n, (_, _, a) in curves_ins.items():
    print("average insertion AUC, %-10s: %.3f" % (n, a.mean()))

# %% [markdown]
# ## (f) Deletion curves, ten images, three methods

# %%
curves_del = ablation_curves(xe, model, grid, te, black, "deletion", step=STEP, batch_size=BATCH)
plot_curves({n: (k, c.mean(axis=0)) for n, (c, k, _) in curves_del.items()}, "mean p_t",
            "deletion, mean over %d images" % N_EVAL)
for n, (_, _, a) in curves_del.items():
    print("average deletion AUC, %-10s: %.3f" % (n, a.mean()))

# %% [markdown]
# **Ablation metrics (4(a)-(f)).** The single-image curves use image 1 (the sports car),
# because the black baseline, which both metrics start or end at, is itself classified as a
# starfish with $p_t$ = 1.000: for image 0 both curves would stay near 1 whatever the
# ordering. On image 1, deleting the superpixels that occlusion ranks highest destroys the
# sports car's probability almost at once (deletion AUC 0.043): the top few superpixels are
# exactly those whose single removal already drops $p_t$ to about 0. Insertion is harder
# (AUC 0.655): starting from black, $p_t$ stays at 0 until about a quarter of the
# superpixels are in, then jumps to about 0.9, dips twice while the next superpixels are
# added and stays at 1 from about 60% on. Occlusion scores each superpixel *alone*, in the
# context of the full image; insertion needs superpixels that are convincing *together*,
# on a black background, so a good deletion ordering is not automatically a good insertion
# ordering.
#
# Over the ten images, Occlusion and SmoothGrad both beat the Random map by a wide margin:
# average insertion AUC 0.784 (Occlusion) and 0.796 (SmoothGrad) against 0.394 (Random),
# and average deletion AUC 0.178 and 0.195 against 0.332 (lower is better for deletion).
# Occlusion wins on deletion, which is the metric it optimises superpixel by superpixel
# (its score is exactly the drop of $p_t$ when one superpixel is deleted); SmoothGrad is
# slightly better on insertion, which rewards superpixels that build up the object
# together (see image 1 above). Deleting the superpixels Occlusion ranks first brings the
# mean $p_t$ down to about 0.2 after 5% of the image, while the Random deletion curve falls
# gradually and is still above 0.5 after 20%; the Random insertion curve stays below 0.5
# until about 80% of the superpixels are in: in random order a scene becomes recognisable
# to the model only when most of it is present. Every mean insertion curve starts, and every
# mean deletion curve ends, at 0.1, the mean of $p_t$(black) over the ten images (1 for the
# starfish, about 0 for the others); the starfish therefore narrows the gap between the
# methods and Random slightly.

# %% [markdown]
# ## Ground truth (synthetic world only)
#
# The synthetic scenes come with the object's mask, so we can also ask how much of each
# method's positive map falls on the object (a ground-truth comparison, Problem 1's other
# kind of metric): the share of positive mass inside the mask, and the localisation ratio
# (that share divided by the object's share of the image; 1 is chance).

# %%
if sample.masks is not None:
    masks = sample.masks["object"][:N_EVAL]
    ig_eval = integrated_gradients(xe, model, te, black, steps=STEPS)
    rows = [("Occlusion (8x8, black)", maps["Occlusion"]), ("SmoothGrad", maps["SmoothGrad"]),
            ("Integrated Gradients (black)", ig_eval), ("Random", maps["Random"])]
    print("object covers %.1f%% of the image on average" % (100 * masks.mean()))
    print("%-30s %18s %20s" % ("method", "share on object", "localisation ratio"))
    for n, m in rows:
        share, ratio = object_share(m, masks)
        print("%-30s %17.1f%% %20.2f" % (n, 100 * share, ratio))
else:
    print("The ImageNet world has no object masks: this check runs in the synthetic world.")

# %% [markdown]
# **Ground truth.** The object covers 13.4% of a scene on average. Occlusion puts 42.5% of
# its positive mass on the object (localisation ratio 3.08, three times chance), Integrated
# Gradients with the black baseline 40.2% (3.03), SmoothGrad 30.0% (2.20), and the Random
# map 13.4% (1.01, chance, as it must). The ranking differs from the ablation metrics,
# where SmoothGrad was as good as Occlusion: SmoothGrad spreads its mass over the object's
# surroundings, which the mask counts against it, but which the model does use (the noise
# makes the gradient respond to context as well). This is the point of Problem 1's last
# question: a ground-truth comparison measures agreement with the annotator, an ablation
# metric measures what the model actually relies on.
