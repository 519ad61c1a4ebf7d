"""The offline world: generated 64x64 scenes with ground-truth part masks
(:mod:`synthetic_world.scenes`) and the training of the small VGG16-layout surrogate
model on them (:mod:`synthetic_world.train_surrogate`)."""
