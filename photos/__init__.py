"""The ImageNet world's photographs, pinned by URL and sha256 in ``data/images.tsv``:
fetching a verified local copy (:mod:`photos.fetch`) and decoding it
(:mod:`photos.decode`). The image sets built from them are in ``test_data``."""
