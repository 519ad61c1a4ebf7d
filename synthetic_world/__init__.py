"""The offline world: generated 64x64 scenes with ground-truth part masks
(:mod:`synthetic_world.scenes`, drawing the objects of :mod:`synthetic_world.objects`),
and the small VGG16-layout surrogate model trained on them
(:mod:`synthetic_world.surrogate`, trained by :mod:`synthetic_world.train_surrogate`)."""
