"""Course exercises answered in closed form beside the notebooks (TU Berlin sheet 11,
exercises 1-3: :mod:`exercises.theory`)."""
