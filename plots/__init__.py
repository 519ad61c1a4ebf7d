"""The drawing vocabulary behind ``VisualizerTiler`` (the starter's module, which
re-exports every public name and states the contract every function keeps).

* :mod:`plots.heat`: one heat-map panel and its parts: the method -> colour map table,
  colour scales, the grey backdrop, frames and colour bars.
* :mod:`plots.maps`: rows and grids of maps: heat-map rows, every method on a few images,
  CAMs, LIME superpixels, mask overlaps, relevance as TU Berlin sheet 11 draws it.
* :mod:`plots.charts`: curves, bars, the recall/precision grid, dissection histograms.
"""
