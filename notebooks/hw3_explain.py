# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,notebooks//py:percent
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
# # 18-739 HW3: Influence-directed explanations and Integrated Gradients
#
# This notebook answers every part of the homework handout: Part I (measures of influence),
# Part II (focused explanations of a slice), Part III (comparative explanations, with the
# extra credit) and Part IV (model compression). The explanation methods live in
# `AumannShapley.py` and `Explanation.py`; the images in `test_data.py`; the model in
# `models.py`; the figures in `VisualizerTiler.py`; Part IV in `compression.py`.
#
# **Two worlds, one code path.** The parameter `WORLD` below selects what is explained:
#
# * `imagenet`: the course's VGG16 with the official ImageNet weights (downloaded on first use,
#   528 MB, md5-checked) and real photographs (downloaded from pinned URLs, sha256-checked).
#   Run it with `make notebook`.
# * `synthetic`: an offline world of generated 64x64 scenes with ground-truth part masks and a
#   small model of the same VGG16 layout trained on them (`synthetic_world/scenes.py`,
#   `models/surrogate.h5`), so every explanation can be checked against the truth. Run it
#   with `make notebook-offline`.
#
# The banner printed by the first code cell says which world produced the saved outputs.

# %% tags=["parameters"]
# Parameters: `make run ... -p NAME VALUE` writes the values used into this cell.
WORLD = "synthetic"   # "imagenet" (VGG16 + real photos, downloads) or "synthetic" (offline)
STEPS = 50            # m, the number of Riemann steps of the path integral (IG eq. 3)
N_IMAGES = None       # images per class-level set; None: all the world provides
GRID = None           # Part IV grid of kept top/bottom channels; None: 0, 1, 2, 4, ..., all
IMAGE_LIST = "extra_credit_images.txt"   # 6.3: the text file listing the images used

# %%
import hw3_env  # Keras on Theano, channels first, float32: must come first

import numpy as np
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

import compression
from evaluation import evidence, ground_truth, hw3_answers
import models
import test_data
from AumannShapley import AumannShapley
from Explanation import Explanation, absolute_and_comparative, explain_neurons, top_neurons
from VisualizerTiler import tile_attributions, tile_neuron_maps

np.random.seed(0)
# %matplotlib inline

world = test_data.load_world(WORLD)
model = world.model()
names = world.class_names
expl = Explanation(model, AumannShapley(resolution=STEPS))   # attributions, zero baseline
conv4_1 = expl.for_layer(models.CONV4_1)                      # slice: z = layers[19].input
pixels = expl.for_input()                                     # slice: z = x (pixels)
display(Markdown(world.banner(STEPS)))

# %% [markdown]
# # Part I: Understanding measures of influence
#
# ## 4.1 Influence-directed explanations
#
# **1. Quantity and distribution of interest.** A *quantity of interest* (QoI) is the
# function of the network whose behaviour we want to explain: a scalar computed from the
# model's outputs (or internal activations), such as the score of the class "cat", or the
# difference between the scores of "cat" and "dog". A *distribution of interest* (DoI) is the
# set of inputs, with weights, over which influence is averaged: a single instance, the images
# of one class, or the straight path from a baseline to an instance. The influence of an
# internal element $j$ of the slice $s = \langle g, h\rangle$ (Definition 1 of Leino et al.) is
# the expected gradient of the QoI with respect to $z_j$ under the DoI:
# $\chi_j^s(f, P) = \int_{\mathcal X} \frac{\partial g}{\partial z_j}\big|_{h(x)} P(x)\,dx$.
#
# **2. "What is the influence of neuron 0 toward the cat class?"** The quantity of interest is
# the model's score for the class cat, $Q = s_{\text{cat}}$ (the output of the linear last layer
# at the cat index). The distribution of interest is the distribution of cat images (the
# images of that class), so the answer is the average over cat images of
# $\partial s_{\text{cat}} / \partial z_0$ at the slice containing neuron 0.
#
# **3. "What is the influence of pixel (5,0) toward a cat image C, compared to a dog image D?"**
# The distribution of interest is the uniform distribution on the straight line from $D$ to
# $C$, the points $D + \alpha (C - D)$ for $\alpha \in [0, 1]$: $D$ plays the role of the
# baseline of Integrated Gradients. The quantity of interest is the score of the class of
# $C$, $Q = s_{\text{cat}}$; the influence is the average of $\partial s_{\text{cat}} /
# \partial x_{(5,0)}$ along that path, and multiplying by $C_{(5,0)} - D_{(5,0)}$ gives the
# pixel's share of $s_{\text{cat}}(C) - s_{\text{cat}}(D)$. (If the question is read as "cat
# rather than dog", the QoI becomes the comparative $s_{\text{cat}} - s_{\text{dog}}$ over the same
# path.)
#
# ## 4.2 Aumann-Shapley values
#
# Integrated Gradients (Sundararajan et al., eq. 1) attributes to input $i$
#
# $$\mathrm{IG}_i(x) = (x_i - x'_i) \int_0^1 \frac{\partial F(x' + \alpha (x - x'))}{\partial x_i}\, d\alpha .$$
#
# The integral is Definition 1 of Leino et al. with the slice at the input ($h$ the identity),
# the quantity of interest $F$, and the distribution of interest uniform on the straight path
# from the baseline $x'$ to $x$: both are the Aumann-Shapley value of cost-sharing, the
# average marginal contribution along the path. The two differ in two ways. IG multiplies by
# the *difference term* $(x_i - x'_i)$, which makes it an *attribution*: by the fundamental
# theorem of calculus for path integrals, $\sum_i \mathrm{IG}_i(x) = F(x) - F(x')$
# (*completeness*). Influence-directed explanations keep the average gradient (the
# *influence*) and add the two parameters that IG fixes: any quantity of interest instead of
# the output $F$, and any distribution of interest (a class of images, a path) instead of
# the single path, at any internal slice instead of the input.
#
# So one class serves both: `AumannShapley(resolution=m, ignore_difference_term=...)`
# evaluates IG's equation (3), the right Riemann sum
# $\frac{1}{m}\sum_{k=1}^{m} \frac{\partial Q}{\partial z}\big(z' + \tfrac{k}{m}(z - z')\big)$
# on the straight path from the baseline $z'$ (zeros of the slice unless given) to
# $z = h(x)$ (`method=` selects another quadrature rule: `riemann_left`, `riemann_middle`,
# `trapezoid` or `gausslegendre`). With `ignore_difference_term=True` it returns that average gradient (influence);
# otherwise it multiplies by $(z - z')$ (attribution) and reports the completeness gap
# $\sum_j \text{attribution}_j - (Q(z) - Q(z'))$, which shrinks as $m$ grows.
# `get_attributions()` computes $h(x)$ once per image, interpolates in the slice's space and
# runs only $g$ at the $m$ points, in chunks of 10.

# %% [markdown]
# # Part II: Focused explanations of slices
#
# ## 5.1 Quantity of interest: absolute
#
# `ExplanationForLayer.absolute(c)` is the quantity $Q = s_c$, the linear score of class $c$.
# With the slice at the input it gives Integrated Gradients. Here: the first starfish.

# %%
starfish = world.image_set("starfish", limit=N_IMAGES)
x_star = world.preprocess(starfish.images)
c_star = world.classes["starfish"]
scores = model.predict(x_star[:1])[0]
print("first instance: the 3 highest class scores (linear outputs, not probabilities):",
      [(names[i], round(float(scores[i]), 2)) for i in np.argsort(-scores)[:3]])

# tolerance: the method raises the resolution until the completeness gap is below 5%
ig_method = AumannShapley(resolution=STEPS, tolerance=0.05, max_resolution=8 * STEPS)
ig = Explanation(model, ig_method).for_input().absolute(c_star).explain(x_star[:1])
tile_attributions(starfish.images[:1], ig.attribution, ["positive IG toward %s" % names[c_star]],
                  originals=True, positive_only=True).show()


# %% [markdown]
# Completeness: the attributions add up to $Q(x) - Q(x')$ up to the Riemann error, which the
# method reports as the gap. The IG above was computed with `tolerance=0.05`: where the gap
# exceeds 5% of $Q(x) - Q(x')$ (the IG paper's tolerance), the method doubles the resolution
# itself, up to $8\times$`STEPS`, and evaluates only the new points (the right Riemann sum at
# $2m$ steps contains the $m$ points already evaluated).

# %% tags=["nbval-check-output"]
print("attribution has the input's shape:", ig.attribution.shape == x_star[:1].shape)
print("completeness: |sum IG - (Q(x) - Q(x'))| < 5% of Q(x) - Q(x'):",
      bool(ig_method.last_relative_gap[0] < 0.05))

# %%
print("steps used: %d (%d path points evaluated), completeness gap: %.4f (%.2f%% of Q(x) - Q(x'))"
      % (ig_method.last_resolution[0], ig_method.last_points[0], ig.delta[0],
         100 * ig_method.last_relative_gap[0]))

# %% [markdown]
# ## 5.2 Explanations
#
# The 10 most influential neurons of conv4_1 (`layers[19].input`) for the first starfish
# (distribution of interest: that instance, via its path from the zero slice) and for the
# class starfish (distribution of interest: all starfish images; the class explanation is the
# mean of the instance attributions). A neuron (channel) is ranked by the **max** of its
# spatial *attribution* map (with the difference term; handout 3.2). Each of the top 3 neurons
# is drawn on the first instance by attributing its summed activation to the pixels
# (handout 3.3).

# %%
q_star = conv4_1.absolute(c_star)
inst = q_star.explain(x_star[:1])
cls = q_star.explain_class(x_star)
top_inst, _ = top_neurons(inst.attribution[0], k=10)
top_cls, _ = top_neurons(cls.attribution, k=10)
overlap = evidence.list_overlap(top_inst, top_cls)
print("10 most influential conv4_1 neurons, first starfish:", top_inst.tolist())
print("10 most influential conv4_1 neurons, class starfish:", top_cls.tolist())
print("shared by both lists:", overlap["shared"])

# %% tags=["nbval-check-output"]
print("slice attribution shape:", inst.attribution.shape[1:] == conv4_1.shape,
      "| class explanation shape:", cls.attribution.shape == conv4_1.shape)
print("10 distinct neurons in each list:", len(set(top_inst)) == len(set(top_cls)) == 10)

# %% [markdown]
# The six neuron maps share one colour scale (each is the pixel attribution of one neuron's
# summed activation, in activation units); the IG map of 5.1 has its own (score units).

# %%
star_neurons = [("instance", n) for n in top_inst[:3]] + [("class", n) for n in top_cls[:3]]
star_maps = explain_neurons(expl, models.CONV4_1, [n for _, n in star_neurons], x_star[:1])
tile_attributions(np.repeat(starfish.images[:1], len(star_maps), axis=0),
                  np.concatenate([m.attribution for m in star_maps]),
                  ["%s list: neuron %d" % (kind, n) for kind, n in star_neurons], ncols=3,
                  positive_only=True,
                  suptitle="Top 3 conv4_1 neurons of the instance (first row) and class (second "
                  "row) explanations, drawn on the first %s" % names[c_star]).show()

# %% [markdown]
# **How do the internal-neuron explanations compare with Integrated Gradients?** Integrated
# Gradients answers "which pixels made this the starfish score" in one map that mixes every
# feature the network used. The neuron explanations factor that answer: each influential
# conv4_1 neuron is a feature the network computes, and its pixel map shows where in the image
# that feature is found. If the factoring separates the features, the neuron maps are more
# concentrated than the IG map, each on a part of the object. Whether they are is measured
# below, for the IG map of 5.1 and each neuron map above, and the answer is written from those
# numbers. The instance and class lists need not be equal: the class explanation ranks the
# features that matter for starfish in general, the instance explanation those that matter for
# this image. Class-level top neurons are the more reliable description of the concept
# "starfish"; instance-level ones explain one decision.

# %%
star_masks = ({k: v[:1] for k, v in starfish.masks.items()} if starfish.masks else None)
ig_evidence = hw3_answers.measure(ig.attribution, star_masks)
neuron_evidence = {"%s list: neuron %d" % (kind, n): hw3_answers.measure(m.attribution, star_masks)
                   for (kind, n), m in zip(star_neurons, star_maps)}
display(Markdown(hw3_answers.evidence_table(dict({"IG (5.1)": ig_evidence}, **neuron_evidence))))
display(Markdown(hw3_answers.neurons_vs_ig(ig_evidence, neuron_evidence,
                                           hw3_answers.object_parts(star_masks), names[c_star],
                                           overlap)))

# %% [markdown]
# # Part III: Comparative explanations
#
# ## 6.1 Quantity of interest: comparative
#
# `ExplanationForLayer.comparative(c1, c2)` is $Q = s_{c_1} - s_{c_2}$: it asks what makes the
# network prefer $c_1$ over $c_2$. Since the quantity is linear in the scores, its attribution is
# exactly the difference of the two absolute attributions, which the next cell checks.
#
# ## 6.2 Explanations
#
# Distributions of interest: for the absolute query "sports car", the `sports_cars` images; for
# the comparative query "sports car vs convertible", `sports_cars` and `convertibles` together.
# Each query's most influential neuron (by the max of its class attribution map) is drawn on
# the three `test_sports_cars`, all maps on one colour scale.

# %%
sc, cv = world.classes["sports_car"], world.classes["convertible"]
cars = world.image_set("sports_cars", limit=N_IMAGES)
convertibles = world.image_set("convertibles", limit=N_IMAGES)
test_cars = world.image_set("test_sports_cars")
x_cars, x_conv, x_test = (world.preprocess(s.images) for s in (cars, convertibles, test_cars))

# absolute over the sports cars, comparative over both sets; on the sports cars the two
# queries share each path point's forward (attributions are linear in the quantity)
absolute, comparative = absolute_and_comparative(conv4_1, sc, cv, x_cars, x_conv)
n_abs, n_comp = (int(top_neurons(d.attribution, k=1)[0][0]) for d in (absolute, comparative))
print("most influential conv4_1 neuron, %s:" % names[sc], n_abs)
print("most influential conv4_1 neuron, %s vs %s:" % (names[sc], names[cv]), n_comp)

# %% tags=["nbval-check-output"]
one = x_test[:1]
difference = conv4_1.absolute(sc).explain(one).attribution - conv4_1.absolute(cv).explain(one).attribution
direct = conv4_1.comparative(sc, cv).explain(one).attribution
print("comparative == absolute(sports car) - absolute(convertible):",
      bool(np.allclose(direct, difference, rtol=1e-3, atol=1e-4 * np.abs(direct).max())))

# %%
car_maps = explain_neurons(expl, models.CONV4_1, [n_abs, n_comp], x_test)
tiler = tile_neuron_maps(test_cars.images, car_maps,
                         ["%s: neuron %d" % (names[sc], n_abs),
                          "vs %s: neuron %d" % (names[cv], n_comp)], "test sports car")
tiler.show("Most influential conv4_1 neuron of each query, drawn on the test sports cars")

# %% [markdown]
# **What is the difference between the two explanations, and what concept does each reveal?**
# The absolute query asks what makes the network say "sports car" rather than any other class;
# its top neuron is the feature the sports-car score leans on most over sports-car images, and
# nothing stops that feature from being shared with convertibles (the body, the wheels, the
# outline of a car): such a neuron explains *car* more than *sports car*. The comparative query
# subtracts the convertible score, so every feature the two classes share cancels in
# $s_{\text{sports car}} - s_{\text{convertible}}$ and what remains is what separates them: on
# real cars, the closed roof and the cabin, which a sports car has and a convertible lacks.
# That is what the comparative query is designed to reveal; what the two neurons' maps above
# actually show is measured below (neuron maps show positive attribution: the pixels that raise
# the neuron's activation), and the answer is written from the numbers.

# %%
car_evidence, answer = hw3_answers.comparative_section(car_maps, test_cars.masks, (n_abs, n_comp),
                                                      (names[sc], names[cv]), region="roof")
display(Markdown(answer))
display(Markdown(hw3_answers.world_note(world.name, "sports_car")))

# %% [markdown]
# ## 6.3 Extra credit: a similar pair
#
# The same two queries for a second pair of similar classes of the world, named below, with the
# list of images used written to a text file (the handout's deliverable).

# %%
a, b = world.classes["similar_a"], world.classes["similar_b"]
set_a = world.image_set("similar_a", limit=N_IMAGES)
set_b = world.image_set("similar_b", limit=N_IMAGES)
display(Markdown(hw3_answers.pair_note(world.name, names[a], names[b], len(set_a), len(set_b))))
x_a, x_b = world.preprocess(set_a.images), world.preprocess(set_b.images)
absolute, comparative = absolute_and_comparative(conv4_1, a, b, x_a, x_b)
p_abs, p_comp = (int(top_neurons(d.attribution, k=1)[0][0]) for d in (absolute, comparative))
print("most influential conv4_1 neuron, %s:" % names[a], p_abs)
print("most influential conv4_1 neuron, %s vs %s:" % (names[a], names[b]), p_comp)
show = set_a.subset(3)
pair_maps = explain_neurons(expl, models.CONV4_1, [p_abs, p_comp], world.preprocess(show.images))
tiler = tile_neuron_maps(show.images, pair_maps,
                         ["%s: neuron %d" % (names[a], p_abs),
                          "vs %s: neuron %d" % (names[b], p_comp)], names[a])
tiler.show("Extra credit: %s vs %s" % (names[a], names[b]))

# %%
listing = world.image_list([set_a, set_b])
with open(IMAGE_LIST, "w") as f:
    f.write(listing + "\n")
print("wrote the %d images used (class, id, URL) to %s; the first three:"
      % (len(listing.splitlines()), IMAGE_LIST))
print("\n".join(listing.splitlines()[:3]))

# %% [markdown]
# **Do the explanations make sense for the difference between the two classes?** As in 6.2, the
# absolute neuron may light up what the class shares with its neighbour, and the comparative
# neuron should be pulled to what differs. The measurements and the answer:

# %%
_, answer = hw3_answers.comparative_section(pair_maps, show.masks, (p_abs, p_comp),
                                           (names[a], names[b]), region="bed")
display(Markdown(answer))
display(Markdown(hw3_answers.world_note(world.name, "similar_a")))
display(Markdown(hw3_answers.recurring_sentence({
    "the %s instance list" % names[c_star]: top_inst, "the %s class list" % names[c_star]: top_cls,
    "the %s query" % names[sc]: [n_abs], "the %s vs %s query" % (names[sc], names[cv]): [n_comp],
    "the %s query" % names[a]: [p_abs], "the %s vs %s query" % (names[a], names[b]): [p_comp]})))

# %% [markdown]
# # Part IV: Model compression
#
# Section 3.2 of Leino et al.: the *essence* of a class is a small set of conv4_1 neurons that
# suffices for the network to recognise it. For each class $c$: the class-level attribution of
# every conv4_1 channel to $s_c$ over the class's influence images (with the difference term,
# ranked by the max of its map, as in Part II); keep the $t$ channels with the most positive
# and the $b$ with the most negative attribution, set every other channel of the slice to 0,
# and run the rest of the network unchanged. The compressed model is a binary classifier for
# $c$: it says "$c$" when $c$ is the arg-max of its scores. Recall is measured on held-out
# images of $c$ (never those used for the ranking); precision on the held-out images of $c$ and
# of the four other classes. Figure 3's analogue is the recall (and precision) over the grid of
# $t \times b$ for chain saw; Table 1's is the recall of the original model and of the best
# compressed model (the grid cell with the highest recall, ties to fewer kept channels) for the
# five classes.

# %%
classes = world.compression_classes
influence = {c: world.preprocess(world.compression_set("influence", c, limit=N_IMAGES).images)
             for c in classes}
heldout = {c: world.preprocess(world.compression_set("heldout", c, limit=N_IMAGES).images)
           for c in classes}
# Ranking: top channels by the max of their class attribution map (as in Part II), bottom
# channels by the min (a ReLU map's max is never below 0, so max cannot rank negatives).
experiment = compression.compression_experiment(
    conv4_1, influence, heldout, classes, [names[c] for c in classes], tops=GRID, bottoms=GRID,
    by="max", bottom_by="min", precision_grids="first")
experiment.grids[classes[0]].plot(names[classes[0]])
plt.show()
print("grid for %s: %.1f s" % (names[classes[0]], experiment.grids[classes[0]].seconds))

# %%
print(compression.table1(experiment.rows))

# %% tags=["nbval-check-output"]
grid = experiment.grids[classes[0]]
every = np.flatnonzero(grid.kept.ravel() == conv4_1.shape[0])
original = experiment.rows[0]["original_recall"]
print("Table 1 has one row per class:", [r["class_index"] for r in experiment.rows] == classes)
print("keeping every channel gives the original recall:",
      bool(len(every) and np.allclose(grid.recall.ravel()[every], original)))
print("each class's compressed recall is the highest of its grid:",
      all(np.isclose(r["recall"], np.nanmax(experiment.grids[r["class_index"]].recall))
          for r in experiment.rows))

# %% [markdown]
# **Reading the results.** Keeping every channel reproduces the original model (checked above).
# How few channels recover each class's recall, and what the compression costs in precision,
# is read from the experiment's numbers:

# %%
display(Markdown(hw3_answers.compression_reading(experiment, conv4_1.shape[0],
                                                 compression.precision)))

# %% [markdown]
# # Checking the explanations against ground truth
#
# In the synthetic world the right answers are known, so the methods can be graded
# (`evaluation/ground_truth.py`, also `make ground-truth`), on held-out images:
#
# * `ig_object_ratio`: pixel IG toward each image's true class, mean localisation ratio to the
#   object mask over the ten classes (share of positive attribution on the object divided by the
#   object's share of the image; 1 is chance).
# * `roof_neuron`, `roof_ratio`: the top conv4_1 neuron of the comparative sports car vs
#   convertible explanation, drawn on held-out sports cars, against the true roof mask.
# * `randomized_rank_corr`: the model-randomisation sanity check of Adebayo et al.: re-initialise
#   the top three weighted layers and compare the IG maps before and after (Spearman rank
#   correlation of the signed maps; `_abs` of their magnitudes). An explanation that ignored the
#   model would stay near 1.

# %%
if world.name == "synthetic":
    checks = ground_truth.report(world, steps=STEPS, verbose=False)
    display(Markdown(hw3_answers.ground_truth_reading(
        checks, n_comp, car_evidence[1].profile.ratio["roof"])))
else:
    print("Ground-truth checks need part masks: run with WORLD = 'synthetic'.")

# %%
display(Markdown(world.credits_markdown([starfish, cars, convertibles, test_cars, set_a, set_b])))

# %% [markdown]
# # References
#
# 1. K. Leino, S. Sen, A. Datta, M. Fredrikson, L. Li. Influence-directed explanations for deep
#    convolutional networks. arXiv:1802.03788, 2018.
# 2. K. Simonyan, A. Vedaldi, A. Zisserman. Deep inside convolutional networks: visualising image
#    classification models and saliency maps. arXiv:1312.6034, 2013.
# 3. K. Simonyan, A. Zisserman. Very deep convolutional networks for large-scale image
#    recognition. arXiv:1409.1556, 2014.
# 4. M. Sundararajan, A. Taly, Q. Yan. Axiomatic attribution for deep networks. arXiv:1703.01365,
#    2017.
# 5. J. Adebayo, J. Gilmer, M. Muelly, I. Goodfellow, M. Hardt, B. Kim. Sanity checks for saliency
#    maps. NeurIPS 2018 (the model-randomisation check).
# 6. The TruLens-Explain library's Slice / QoI / DoI design, and Captum's conventions (the
#    convergence delta), which this code follows.
