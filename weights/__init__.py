"""Weight files the project writes itself: :mod:`weights.stand_in` (random values in the
official VGG16 layout, "stand-in weights")."""
