"""The written answers of ``hw3_explain.ipynb``, rendered from the evidence computed beside
them (:mod:`evaluation.evidence`), so that a re-run in either world prints true text.

Each function takes numbers the notebook has just computed and returns Markdown: a small
table of the evidence and the sentences chosen by it. With part masks (the synthetic world)
the maps are measured region by region (:func:`evidence.part_profile`); without them (the
ImageNet world) only what needs no masks (:func:`evidence.focus`, list overlaps) is
measured, and the answer says what only the figure shows. No sentence names a part or a
class unless the numbers it reads came with that name.
"""
import numpy as np

from evaluation import evidence as ev
from evaluation.evidence import pct

FOCUS_TOP = 0.1
"""The share of pixels :func:`evidence.focus` counts (the strongest 10%)."""

MARGIN = 0.05
"""Differences of shares (or focus) below this count as "about the same"."""


def _span(values, fmt):
    values = [v for v in values if np.isfinite(v)]
    if not values:
        return "n/a"
    lo, hi = min(values), max(values)
    return fmt(lo) if fmt(lo) == fmt(hi) else "%s to %s" % (fmt(lo), fmt(hi))


def _words(items):
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return "%s and %s" % (", ".join(items[:-1]), items[-1])


def _word(region):
    return region.replace("_", " ")


class MapEvidence:
    """What one batch of maps shows: its part profile (None without masks) and focus.

    Attributes:
        profile: :class:`evidence.PartProfile` of the positive mass, or None.
        focus: mean over images of :func:`evidence.focus` (share of the positive mass
            held by the strongest ``FOCUS_TOP`` of the pixels); nan with no positive mass.
        n: number of images.
    """

    def __init__(self, profile, focus, n):
        self.profile, self.focus, self.n = profile, focus, n

    def background_share(self):
        """Share of the positive mass on the background (nan without masks)."""
        return float("nan") if self.profile is None else self.profile.share[ev.BACKGROUND]


def measure(maps, masks=None, parts=None):
    """Measure pixel attributions (N, 3, H, W) or maps (N, H, W).

    Args:
        masks: the image set's masks (dict name -> bool (N, H, W)) or None.
        parts: the regions to profile (default every mask but the background textures,
            as :func:`evaluation.evidence.regions_of`); ``'background'`` is added.
    Returns:
        :class:`MapEvidence`.
    """
    maps = np.asarray(maps)
    f = ev.focus(maps, FOCUS_TOP)
    focus = float(np.nanmean(f)) if np.isfinite(f).any() else float("nan")
    profile = None
    if masks:
        profile = ev.part_profile(maps, masks, list(ev.regions_of(masks, parts)))
    return MapEvidence(profile, focus, len(maps))


def evidence_table(measured, regions=None):
    """Markdown table: one row per map (``measured``: dict label -> MapEvidence), the
    ratio to chance on each region, the share of the positive mass on the background, and
    the share held by the strongest pixels. Without profiles, only the last column.

    Args:
        regions: the ratio columns (default: the first profile's regions).
    """
    if not measured:
        raise ValueError("measured is empty: pass a dict label -> MapEvidence")
    first = next(iter(measured.values()))
    top = "strongest %d%% of pixels hold" % round(100 * FOCUS_TOP)
    if first.profile is None:
        caption = ("Share of each map's positive attribution held by its strongest %d%% of "
                   "pixels (%d%% would be a map spread evenly; mean over %d image%s)."
                   % (round(100 * FOCUS_TOP), round(100 * FOCUS_TOP), first.n,
                      "s" if first.n != 1 else ""))
        rows = ["| %s | %s |" % (k, pct(m.focus)) for k, m in measured.items()]
        return "\n".join([caption, "", "| map | %s |" % top, "|---|---|"] + rows)
    regions = list(regions or first.profile.ratio)
    caption = ("Where each map's positive attribution falls: ratio of its share on a region "
               "to the region's share of the image (1.0x is chance), mean over %d image%s; "
               "then the share of the mass on the background and the share held by the "
               "strongest %d%% of pixels." % (first.n, "s" if first.n != 1 else "",
                                             round(100 * FOCUS_TOP)))
    head = "| map | %s | background share | %s |" % (
        " | ".join(_word(r) for r in regions), top)
    rule = "|---" * (len(regions) + 3) + "|"
    rows = ["| %s | %s | %s | %s |" % (k, " | ".join(ev.times(m.profile.ratio.get(r, np.nan))
                                                    for r in regions),
                                       pct(m.background_share()), pct(m.focus))
            for k, m in measured.items()]
    return "\n".join([caption, "", head, rule] + rows)


def _top_part(profile, parts):
    """The object part with the highest ratio to chance (None if none is finite)."""
    ranked = [(p, profile.ratio[p]) for p in parts if np.isfinite(profile.ratio.get(p, np.nan))]
    return max(ranked, key=lambda pr: pr[1])[0] if ranked else None


def _comparison(value, reference, more, less, same):
    if not (np.isfinite(value) and np.isfinite(reference)):
        return "n/a"
    if value > reference + MARGIN:
        return more
    if value < reference - MARGIN:
        return less
    return same


def neurons_vs_ig(ig, neurons, parts=(), class_name="the object", overlap=None, k=10):
    """Section 5.2's answer: how the top neurons' pixel maps compare with the IG map.

    Args:
        ig: :class:`MapEvidence` of the pixel IG map.
        neurons: dict label -> MapEvidence of each neuron's pixel map.
        parts: the object's named parts (their ratios decide part specificity).
        class_name: the explained class, for the sentences.
        overlap: :func:`evidence.list_overlap` of the instance and class lists, or None.
        k: the lists' length.
    Returns:
        Markdown.
    """
    out = []
    fig = [m.focus for m in neurons.values()]
    verdict = _comparison(float(np.nanmean(fig)) if np.isfinite(fig).any() else np.nan,
                          ig.focus, "more concentrated than", "less concentrated than",
                          "about as concentrated as")
    out.append("The strongest %d%% of pixels hold %s of the IG map's positive attribution "
               "and %s of the neuron maps': on average the neuron maps are %s the IG map."
               % (round(100 * FOCUS_TOP), pct(ig.focus), _span(fig, pct), verdict))
    if ig.profile is not None:
        bg = [m.background_share() for m in neurons.values()]
        focused = all(b < ig.background_share() - MARGIN for b in bg)
        out.append("IG puts %s of its positive mass on the background, the neuron maps %s: "
                   "%s." % (pct(ig.background_share()), _span(bg, pct),
                            "every neuron map is more focused on the %s than IG" % class_name
                            if focused else "the neuron maps are not more focused on the %s "
                            "than IG" % class_name))
        parts = [p for p in parts if p in ig.profile.ratio]
        if len(parts) > 1:
            out.append(_part_sentence(ig, neurons, parts))
        distracted = [k_ for k_, m in neurons.items()
                      if m.profile.top(exclude=("object",)) == "distractors"]
        if distracted:
            out.append("For %d of the %d neuron maps (%s) the highest ratio to chance is on "
                       "the distractor shapes, not on the %s%s."
                       % (len(distracted), len(neurons), _words(distracted), class_name,
                          " (for IG too)" if ig.profile.top(exclude=("object",)) ==
                          "distractors" else ""))
    else:
        out.append("This world has no part masks: which parts of the %s each neuron's map "
                   "covers, only the figures show." % class_name)
    if overlap is not None:
        out.append("The instance and class lists share %d of their %d neurons%s."
                   % (overlap["n_shared"], k, " (%s)" % ", ".join(map(str, overlap["shared"]))
                      if overlap["shared"] else ""))
    return " ".join(out)


def _part_sentence(ig, neurons, parts):
    """Whether any neuron map favours a part the IG map does not (ratios to chance)."""
    ig_top = _top_part(ig.profile, parts)
    others = [p for p in parts if p != ig_top]
    ig_text = "IG favours the %s (%s, against %s)" % (
        _word(ig_top), ev.times(ig.profile.ratio[ig_top]),
        _words("%s on the %s" % (ev.times(ig.profile.ratio[p]), _word(p)) for p in others))
    differ = {k: _top_part(m.profile, parts) for k, m in neurons.items()}
    differ = {k: p for k, p in differ.items() if p is not None and p != ig_top}
    if not differ:
        return ("%s, and so does every neuron map (%s on the %s): no neuron map singles out "
                "a part that IG does not." % (ig_text, _span(
                    [m.profile.ratio[ig_top] for m in neurons.values()], ev.times),
                    _word(ig_top)))
    return ("%s; %s." % (ig_text, "; ".join(
        "%s favours the %s instead (%s, against %s on the %s)"
        % (k, _word(p), ev.times(neurons[k].profile.ratio[p]),
           ev.times(neurons[k].profile.ratio[ig_top]), _word(ig_top))
        for k, p in differ.items())))


def peak_regions(maps, masks, cell=8):
    """The region under each image's strongest ``cell`` x ``cell`` block.

    Args:
        maps: (N, 3, H, W) pixel attributions; masks: the set's masks (N, H, W) each.
    Returns:
        list of N region names.
    """
    return [ev.parts_under_peaks(m, {k: v[i] for k, v in masks.items()}, k=1, cell=cell)[0]
            ["region"] for i, m in enumerate(np.asarray(maps))]


def comparative_answer(absolute, comparative, neurons, region=None, peaks=None,
                       classes=("the class", "its neighbour"), cell=8):
    """Section 6.2's (and the extra credit's) answer: where the absolute and the
    comparative neuron put their mass, and whether the comparative one isolates
    ``region`` (the part that tells the two classes apart).

    Args:
        absolute, comparative: :class:`MapEvidence` of the two neurons' pixel maps.
        neurons: (absolute index, comparative index).
        region: the distinguishing region (a mask name), or None without masks.
        peaks: the regions under each image's strongest block of the comparative map
            (:func:`peak_regions`), or None.
        classes: the two class names.
        cell: the block size ``peaks`` was measured with.
    Returns:
        Markdown.
    """
    n_abs, n_comp = neurons
    if absolute.profile is None or region is None:
        verdict = _comparison(comparative.focus, absolute.focus, "more", "less", "about as")
        return ("The strongest %d%% of pixels hold %s of the absolute neuron %d's positive "
                "attribution and %s of the comparative neuron %d's: the comparative map is "
                "%s concentrated. This world has no part masks, so whether the comparative "
                "neuron lights up what separates %s from %s only the figure shows."
                % (round(100 * FOCUS_TOP), pct(absolute.focus), n_abs, pct(comparative.focus),
                   n_comp, verdict, classes[0], classes[1]))
    out = [ev.ranking_sentence("The absolute neuron %d" % n_abs, absolute.profile, region)
           + "; " + ev.ranking_sentence("the comparative neuron %d" % n_comp,
                                        comparative.profile, region) + "."]
    r_abs, r_comp = absolute.profile.ratio[region], comparative.profile.ratio[region]
    top = comparative.profile.top()
    w = _word(region)
    if top == region and r_comp > r_abs:
        out.append("The comparative query isolates the %s, as it is designed to." % w)
    elif r_comp > r_abs:
        out.append("The comparative neuron concentrates more on the %s than the absolute one "
                   "(%s against %s), but its mass is highest on the %s: it points at the "
                   "difference without isolating it." % (w, ev.times(r_comp), ev.times(r_abs),
                                                         _word(top)))
    else:
        out.append("So the comparative neuron does not isolate the %s: the absolute neuron "
                   "puts more of its mass there (%s against %s), and the comparative one is "
                   "most concentrated on the %s." % (w, ev.times(r_abs), ev.times(r_comp),
                                                     _word(top)))
    if peaks:
        counts = {p: peaks.count(p) for p in dict.fromkeys(peaks)}
        out.append("The comparative map's strongest %dx%d block lies on %s."
                   % (cell, cell, _words("the %s in %d of %d images" % (_word(p), c, len(peaks))
                            for p, c in counts.items())))
    return " ".join(out)


def comparative_section(explanations, masks, neurons, classes, region):
    """6.2's (and the extra credit's) evidence and answer for the absolute and the
    comparative neuron's pixel maps: the table (:func:`evidence_table`) and the sentences
    (:func:`comparative_answer`).

    Args:
        explanations: (absolute, comparative) ExplanationData, attribution (N, 3, H, W).
        masks: the image set's masks, or None.
        neurons: (absolute index, comparative index).
        classes: (the class, its neighbour) names.
        region: the mask that tells the two classes apart (used only with masks).
    Returns:
        ((absolute, comparative) :class:`MapEvidence`, Markdown).
    """
    measured = [measure(e.attribution, masks) for e in explanations]
    labels = ["absolute (%s): neuron %d" % (classes[0], neurons[0]),
              "comparative (vs %s): neuron %d" % (classes[1], neurons[1])]
    peaks = peak_regions(explanations[1].attribution, masks) if masks else None
    text = comparative_answer(*measured, neurons, region=region if masks else None,
                              peaks=peaks, classes=classes)
    return tuple(measured), evidence_table(dict(zip(labels, measured))) + "\n\n" + text


def recurring_sentence(lists):
    """Which neurons recur across the notebook's queries (:func:`evidence.recurring`).

    Args:
        lists: dict query -> its top neurons.
    Returns:
        one sentence, or '' when no neuron recurs.
    """
    common = ev.recurring(lists)
    if not common:
        return ""
    text = "Neurons that recur across the queries: %s." % "; ".join(
        "%d in %s" % (n, _words(q)) for n, q in common.items())
    if any(len(q) > 2 for q in common.values()):
        text += (" A neuron at the top of queries about different classes is a generic "
                 "feature the network uses widely, not a concept specific to one class.")
    return text


def fewest_channels(grid, original_recall):
    """The grid cell that recovers ``original_recall`` with the fewest kept channels.

    Returns:
        dict ``kept``, ``top``, ``bottom``, ``recall``, ``precision`` (nan when the grid
        has none), or None when no cell recovers it.
    """
    r = np.nan_to_num(np.asarray(grid.recall, dtype=np.float64), nan=-1)
    ok = np.argwhere(r >= original_recall - 1e-9)
    if not len(ok):
        return None
    i, j = min(ok, key=lambda ij: (grid.kept[tuple(ij)], -r[tuple(ij)]))
    return {"kept": int(grid.kept[i, j]), "top": int(grid.tops[i]), "bottom": int(grid.bottoms[j]),
            "recall": float(grid.recall[i, j]), "precision": float(grid.precision[i, j])}


def compression_reading(experiment, n_channels, precision_of):
    """Part IV's reading of the results, from the experiment's numbers.

    Args:
        experiment: :class:`compression.ExperimentResult`.
        n_channels: the slice's number of channels.
        precision_of: function (pred_is_c, is_c) -> precision (``compression.precision``).
    Returns:
        Markdown: a table (per class: original recall and precision, the fewest channels
        that recover the original recall, the best cell's precision) and the sentences.
    """
    rows, lines, recovered, lower, unseen = experiment.rows, [], [], [], []
    for r in rows:
        c = r["class_index"]
        orig_p = precision_of(experiment.predictions == c, experiment.labels == c)
        seen = np.isfinite(r["original_recall"]) and r["original_recall"] > 0
        few = fewest_channels(experiment.grids[c], r["original_recall"]) if seen else None
        r_ = dict(r, original_precision=orig_p, fewest=few)
        if few is not None:
            recovered.append(r_)
        elif not seen:
            unseen.append(r["class"])
        if np.isfinite(r["precision"]) and np.isfinite(orig_p) and r["precision"] < orig_p:
            lower.append(r_)
        lines.append("| %s | %.3f | %s | %s | %.3f | %s |" % (
            r["class"], r["original_recall"], "n/a" if not np.isfinite(orig_p) else
            "%.3f" % orig_p, "none" if few is None else "%d (t=%d, b=%d)"
            % (few["kept"], few["top"], few["bottom"]), r["recall"],
            "n/a" if not np.isfinite(r["precision"]) else "%.3f" % r["precision"]))
    table = "\n".join([
        "Per class: the original model's recall and precision on the held-out images, the "
        "fewest kept channels (of %d) whose compressed model recovers the original recall, "
        "and Table 1's best cell (highest recall) with its precision." % n_channels, "",
        "| class | original recall | original precision | fewest channels recovering it | "
        "best compressed recall | its precision |", "|---|---|---|---|---|---|"] + lines)
    text = []
    if recovered:
        most = max(x["fewest"]["kept"] for x in recovered)
        text.append("Keeping at most %d of conv4_1's %d channels (%s) recovers the original "
                    "recall for %d of the %d classes (%s)%s." % (
                        most, n_channels, pct(most / n_channels), len(recovered), len(rows),
                        _words("%s %d" % (x["class"], x["fewest"]["kept"]) for x in recovered),
                        ": the class's essence is concentrated in a small set of features"
                        if most <= n_channels // 4 else ""))
    done = {x["class"] for x in recovered}
    missing = [r["class"] for r in rows if r["class"] not in done and r["class"] not in unseen]
    if missing:
        text.append("No cell of the grid recovers it for %s." % _words(missing))
    if unseen:
        text.append("The original model recognises none of the held-out images of %s: there "
                    "is no recall to recover." % _words(unseen))
    g = experiment.grids[rows[0]["class_index"]]
    if 0 in g.tops and 0 in g.bottoms:
        zero = g.recall[list(g.tops).index(0), list(g.bottoms).index(0)]
        text.append("Keeping no channel, the compressed model's recall for %s is %.2f%s." % (
            rows[0]["class"], zero, " (it never names the class)" if zero == 0 else ""))
    if lower:
        text.append("The best cell's precision is below the original model's for %d of the "
                    "%d classes (%s): a model that keeps only class c's channels silences "
                    "the evidence for the other classes and says \"c\" more often. The best "
                    "cell is chosen by recall alone, as the handout asks, so its precision is "
                    "the price of that choice." % (len(lower), len(rows), _words(
                        "%s %.3f against %.3f" % (x["class"], x["precision"],
                                                  x["original_precision"]) for x in lower)))
    undefined = [r["class"] for r in rows if not np.isfinite(r["precision"])]
    if undefined:
        text.append("The best cell never names %s, so its precision is undefined there."
                    % _words(undefined))
    if not lower and len(undefined) < len(rows):
        text.append("No class with a defined precision loses precision at its best cell.")
    first = rows[0]
    orig_p = precision_of(experiment.predictions == first["class_index"],
                          experiment.labels == first["class_index"])
    prec = np.asarray(g.precision, dtype=np.float64)
    if np.isfinite(prec).any() and np.isfinite(orig_p):
        ok = np.argwhere((np.nan_to_num(g.recall, nan=-1) >= first["original_recall"] - 1e-9)
                         & (np.nan_to_num(prec, nan=-1) >= orig_p - 1e-9))
        if len(ok):
            i, j = min(ok, key=lambda ij: (g.kept[tuple(ij)], -g.tops[ij[0]]))
            text.append("In Figure 3's precision panel, the fewest channels that keep %s's "
                        "original recall and precision (%.3f) are t=%d, b=%d (%d channels)%s."
                        % (first["class"], orig_p, g.tops[i], g.bottoms[j], g.kept[i, j],
                           ": adding the most negative channels, the evidence against it, "
                           "restores precision" if g.bottoms[j] > 0 else ""))
        else:
            text.append("No cell of Figure 3 keeps both %s's original recall and its "
                        "precision (%.3f)." % (first["class"], orig_p))
    return table + "\n\n" + " ".join(text)


def ground_truth_reading(report, n_comp, roof_ratio_test=None):
    """The ground-truth section's reading of :func:`evaluation.ground_truth.report`.

    Args:
        report: its dict.
        n_comp: the comparative neuron of 6.2.
        roof_ratio_test: 6.2's roof ratio of that neuron on the test cars, or None.
    Returns:
        Markdown.
    """
    r = report
    out = ["| measure | value |", "|---|---|"]
    out += ["| %s | %s |" % (k, v if isinstance(v, int) else "%.3f" % v) for k, v in r.items()]
    text = []
    ig = r["ig_object_ratio"]
    text.append("Pixel IG puts %.1fx chance of its positive attribution on the object%s." % (
        ig, ": it points at the object" if ig > 1.5 else
        ", barely above chance" if ig > 1 else ", no more than chance"))
    same = "the same neuron as in 6.2" if r["roof_neuron"] == n_comp else (
        "not 6.2's neuron %d" % n_comp)
    text.append("The comparative neuron found here is %d (%s); on the held-out sports cars "
                "it puts %.1fx chance of its positive mass on the roof%s." % (
                    r["roof_neuron"], same, r["roof_ratio"],
                    "" if roof_ratio_test is None else
                    " (on 6.2's three test cars, %.1fx)" % roof_ratio_test))
    rc, ra = r["randomized_rank_corr"], r["randomized_rank_corr_abs"]
    text.append("After randomising the top layers the signed IG maps correlate %.2f with "
                "the originals%s; the magnitudes correlate %.2f%s." % (
                    rc, ": the explanation depends on the weights, as it must"
                    if abs(rc) < 0.3 else ": too alike, the check fails", ra,
                    ", more, because IG multiplies by the input, which keeps the image's "
                    "edges whatever the weights" if ra > rc else ""))
    return "\n".join(out) + "\n\n" + " ".join(text)


def object_parts(masks):
    """The object's named parts among a set's masks (not the whole object, not the
    distractors); [] without masks."""
    return [p for p in (masks or {}) if p not in ("object", "distractors")]


_WORLD_NOTES = {
    ("synthetic", "sports_car"):
        "*In this world* a sports car and its convertible twin are drawn from one "
        "distribution and differ only inside the roof region (the sports car's closed roof "
        "against the convertible's windshield and seats). So the roof is the one part that "
        "tells them apart, and the comparative neuron is expected to concentrate there; the "
        "sports-car score itself also depends on the roof, so the absolute neuron may as well.",
    ("synthetic", "similar_a"):
        "*In this world* a pickup and its van twin share the cab and the wheels and differ "
        "only inside the bed region behind the cab (the pickup's open bed against the van's "
        "closed cargo box), so the comparative neuron is expected to concentrate there.",
    ("imagenet", "similar_a"):
        "*On the photographs* the two hounds differ subtly: one would expect the comparative "
        "neuron on the head and the coat pattern (the foxhound's longer legs and leaner body, "
        "the beagle's shorter muzzle) rather than on the background, and a less clean map "
        "than for the cars, since two dogs of similar colours leave the network few features "
        "that separate them. Whether the maps above do so, only the figure shows.",
}


def world_note(world_name, role):
    """What a world's construction (or the photographs' classes) lead one to expect for a
    query (``role``: 'sports_car' or 'similar_a'); '' when there is nothing to add. Prose
    about one world is returned only for that world."""
    return _WORLD_NOTES.get((world_name, role), "")


def pair_note(world_name, name_a, name_b, n_a, n_b):
    """The extra credit's pair, named from the world's classes and set sizes."""
    source = {"synthetic": "generated scenes of twin classes",
              "imagenet": "ILSVRC2012 validation photographs"}.get(world_name, "images")
    return ("The pair: **%s** vs **%s**, %d and %d %s." % (name_a, name_b, n_a, n_b, source))
