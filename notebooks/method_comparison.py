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
# # Which explanation is right? Every method against the truth
#
# The project explains one model with more than a dozen methods: Integrated Gradients with
# four baselines and influence-directed explanations (HW3), vanilla gradients, SmoothGrad
# and occlusion (CSEP 590B HW2), Gradient × Input and LRP (TU Berlin sheet 11), Grad-CAM,
# Ablation-CAM, Score-CAM and LIME (the Saarland report), and a random map as the floor.
# Libraries such as Captum, pytorch-grad-cam, Zennit or LIME implement such methods but
# cannot say which one is *right*, because no image they explain comes with its true
# explanation. The synthetic world does: every scene has pixel-exact part masks, and the
# twin classes differ only in one part (a sports car and a convertible only in the roof, a
# pickup and a van only in the cargo bed), so the true answer to "why sports car rather
# than convertible?" is known to be the roof.
#
# Every method is graded on the same held-out scenes by
# (`evaluation/measures.py`, `evaluation/comparison.py`):
#
# * **object localisation**: the share of the map's positive mass on the object divided by
#   the object's share of the image (1 = chance);
# * **pointing game**: is the map's maximum on the object;
# * **part truth**: the localisation ratio of the map of the comparative quantity
#   $s_{\text{sports car}} - s_{\text{convertible}}$ on the roof and
#   $s_{\text{pickup}} - s_{\text{van}}$ on the cargo bed, for every method that can explain
#   a comparative quantity;
# * **insertion and deletion AUC** (HW2's ablation metrics): $p_t$ as the most important
#   superpixels are added to a black image, or removed from the image;
# * **model randomisation** (Adebayo et al. 2018): the rank correlation between a method's
#   maps on the trained model and on a copy whose top three weighted layers are
#   re-initialised. A map that does not change when the model forgets what it learned does
#   not explain the model: lower is better.
#
# Each cell is a mean over the images with a bootstrap interval. Every method runs with
# the defaults of its own homework (listed below); where it has a free parameter, the table
# shows that default and a second table shows the parameter's effect. The written answers
# at the end are rendered from the two tables, so they describe whatever run produced them.

# %% tags=["parameters"]
# Parameters: the values this run used (`make compare WORLD=...` or
# `python -m notebook_tools.execute notebooks/method_comparison.ipynb -p NAME VALUE`
# writes them into this cell before it runs).
WORLD = "synthetic"   # "imagenet" (VGG16 + real photos, downloads) or "synthetic" (offline)
PER_CLASS = 10        # synthetic world: held-out scenes per class
N_PHOTOS = None       # ImageNet world: photos of the 50-class sample; None: all 50
SWEEP_PER_CLASS = 3   # images per class for the parameter table
RANDOMISED_PER_CLASS = 2  # images per class for the model-randomisation check
METHODS = None        # a list of method names to run; None: all
# The methods' free parameters; None: their homeworks' defaults (evaluation.contenders.Settings)
STEPS = None          # Riemann steps of IG and influence (50)
SAMPLES = None        # SmoothGrad's samples (50)
OCCLUSION = None      # occlusion's superpixel side in pixels (8)
LIME_SAMPLES = None   # LIME's num_samples (1000)
CURVE_STEP = None     # superpixels per point of the insertion/deletion curves (8 of 16 x 16)

# %%
import hw3_env  # Keras on Theano, channels first, float32: must come first

import os

import numpy as np
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

import test_data
from evaluation import comparison, contenders, ground_truth
from methods import baselines
from VisualizerTiler import plot_maps

np.random.seed(0)
# %matplotlib inline

world = test_data.load_world(WORLD)
model = world.model()
names = world.class_names
if world.name == "synthetic":
    scenes, pictures = comparison.synthetic_scenes(world, PER_CLASS)
else:
    scenes, pictures = comparison.photo_scenes(world, test_data.sample50(world, N_PHOTOS))
randomised = ground_truth.randomized_copy(model, ground_truth.RANDOMIZED_LAYERS)
chosen = dict(steps=STEPS, samples=SAMPLES, occlusion=OCCLUSION, lime_samples=LIME_SAMPLES,
              curve_step=CURVE_STEP)
settings = contenders.Settings(**{k: v for k, v in chosen.items() if v is not None})
black = baselines.black(world.image_size, world.preprocess)
ablation = contenders.ablation_auc(model, black, settings)
methods = [m for m in contenders.contenders(world, settings)
           if METHODS is None or m.name in METHODS]
display(Markdown(world.banner(settings.steps, notebook="notebooks/method_comparison.ipynb",
                              images=len(scenes.x), SmoothGrad_samples=settings.samples,
                              occlusion=settings.occlusion, LIME_samples=settings.lime_samples)))

# %% [markdown]
# ## The methods and their defaults

# %%
display(Markdown("\n".join(["| method | settings (from its homework) | comparative |",
                            "| --- | --- | --- |"]
                           + ["| %s | %s | %s |" % (m.name, m.settings,
                                                    "yes" if m.comparative else "no")
                              for m in methods])))

# %% [markdown]
# ## The table

# %% tags=["nbval-skip"]
# (about ten minutes on 2 cores; `make test` runs this path with tiny settings in
# tests/test_comparison_notebook.py, and `make compare` re-creates these outputs)
n_classes = len(np.unique(scenes.labels))
load = [os.getloadavg()[0]]
results = comparison.compare(methods, model, scenes, randomised, ablation,
                             randomisation_images=np.arange(RANDOMISED_PER_CLASS * n_classes))
why = {"localisation": "these photos come with no object masks",
       "pointing": "these photos come with no object masks",
       "part": "needs classes that differ in one known part, with its mask; photos have none"}
load.append(os.getloadavg()[0])
display(Markdown(comparison.table_markdown(results, why)))

# %% [markdown]
# ## Every method on the same four scenes
#
# Red is positive, blue negative, white zero. Each map is divided by its own largest
# magnitude, so one colour bar serves every panel but **the scales of the maps differ**:
# compare where a map puts its mass, not how much. Magnitude maps (HW2's gradients,
# SmoothGrad and |IG|, the CAMs) are positive everywhere and run from white to red.

# %% tags=["nbval-skip"]
# (needs the table's maps, see above)
show = [int(np.flatnonzero(scenes.labels == c)[0]) for c in
        ((0, 1, 3, 7) if world.name == "synthetic" else np.unique(scenes.labels)[:4])]
fig = plot_maps(results, pictures, show, [names[scenes.labels[i]] for i in show])
plt.show()

# %% [markdown]
# ## What the free parameters do
#
# The main table fixes each method's own default. Here the two main measures, object
# localisation and insertion AUC, for other values of the parameters that a user of each
# method has to choose, on the first `SWEEP_PER_CLASS` images of every class.

# %% tags=["nbval-skip"]
# (a second grading run, see above)
sweep_idx = np.arange(min(len(scenes.x), SWEEP_PER_CLASS * n_classes))
sub = comparison.Scenes(scenes.x[sweep_idx], scenes.labels[sweep_idx],
                        None if scenes.masks is None else scenes.masks[sweep_idx])
variants = [m for m in contenders.variants(world, settings)
            if METHODS is None or m.name.split(" (")[0] in METHODS]
sweep = comparison.compare(variants, model, sub, ablation=ablation)
display(Markdown(comparison.table_markdown(sweep, why, measures=("localisation", "insertion"))))
load.append(os.getloadavg()[0])

# %% [markdown]
# ## Reading the tables
#
# The answers below are rendered from the two tables above and from a few numbers computed
# beside them (the CAMs' grid, where occlusion's strongest window lies, the difference term
# of the blurred baseline, the machine's load while the tables were measured).

# %% tags=["nbval-skip"]
# (reads the tables above)
context = contenders.reading_context(world, model, scenes, results, settings)
context.update(load=load, cores=os.cpu_count())
display(Markdown(comparison.reading(results, sweep, context)))
