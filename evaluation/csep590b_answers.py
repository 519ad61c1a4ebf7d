"""CSEP 590B HW2's written answers: the evidence beside each figure of
``notebooks/csep590b_hw2`` and the sentences chosen by it.

Every function takes numbers computed by the homework's methods
(:mod:`methods.csep590b`) and returns them as a dict, or as Markdown whose sentences
are chosen by them, so a re-run in either world prints true text. Masks are the
synthetic world's (dict name -> bool (N, H, W)); with masks None (photographs) the
answers say what can be measured without them and leave the rest to the picture.
"""
import hw3_env  # noqa: F401

import numpy as np

from evaluation import evidence
from evaluation.evidence import pct
from methods.baselines import broadcast_baseline
from methods.removal import auc
from methods.scores import probabilities

__all__ = ["image_masks", "occluded_prediction", "occlusion_evidence", "occlusion_sentence",
           "occlusion_summary", "sizes_answer", "blur_answer", "gradient_evidence",
           "gradient_answer", "completeness_answer", "pick_curve_image", "curve_answer",
           "mean_curves_answer", "ground_truth_answer"]


def _names(words):
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _count(n):
    return {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}.get(n, str(n))


def _word(region):
    return region.replace("_", " ")


def image_masks(masks, i):
    """The masks of image ``i`` of a set as dict name -> bool (1, H, W), keeping
    ``'object'`` and the regions this image has (a set of several classes holds every
    class's parts, empty where a scene has no such part). None when ``masks`` is None."""
    if masks is None:
        return None
    return {k: np.asarray(m[i:i + 1], bool) for k, m in masks.items()
            if k == "object" or np.asarray(m[i]).any()}


def occluded_prediction(img, model, cell, baseline, superpixel_size):
    """The model's top class and its probability when one superpixel of ``img`` is
    replaced by the baseline.

    Args:
        img: (3, H, W) model input. cell: (row, col) on the superpixel grid.
        baseline: broadcastable to img.
    Returns:
        (class index, probability).
    """
    x = np.array(img, dtype=np.float32)
    base = broadcast_baseline(baseline, x[None])[0]
    s = int(superpixel_size)
    r, c = cell
    x[:, r * s:(r + 1) * s, c * s:(c + 1) * s] = base[:, r * s:(r + 1) * s, c * s:(c + 1) * s]
    p = probabilities(model, x[None])[0]
    return int(p.argmax()), float(p.max())


def occlusion_evidence(occ_map, img, model, target, baseline, superpixel_size, masks=None, k=2):
    """What one occlusion map shows, as numbers.

    Args:
        occ_map: (H, W) occlusion scores (constant on each superpixel).
        img: (3, H, W) the model input it explains; target: its class.
        masks: this image's masks, dict name -> bool (1, H, W) (:func:`image_masks`), or None.
        k: how many of the strongest cells to describe.
    Returns:
        dict: ``peaks`` (list of dicts value, row, col, and with masks region, coverage,
        on_object: share of the cell on the object), ``grid`` (rows, cols),
        ``negative`` (share of the map's absolute mass that is negative), ``profile``
        (:class:`evaluation.evidence.PartProfile` of the positive mass, or None),
        ``occluded`` (class, probability) with the strongest cell replaced, ``target``.
    """
    m = np.asarray(occ_map, dtype=np.float64)
    s = int(superpixel_size)
    cells = m[::s, ::s]
    if masks is not None:
        peaks = evidence.parts_under_peaks(m, {n: v[0] for n, v in masks.items()}, k=k, cell=s)
        for p in peaks:
            block = masks["object"][0, p["row"] * s:(p["row"] + 1) * s,
                                    p["col"] * s:(p["col"] + 1) * s]
            p["on_object"] = float(block.mean())
        profile = evidence.part_profile(m[None], masks)
    else:
        order = np.argsort(-cells, axis=None, kind="stable")[:k]
        peaks = [{"value": float(cells.flat[f]), "row": int(f // cells.shape[1]),
                  "col": int(f % cells.shape[1])} for f in order]
        profile = None
    top = peaks[0]
    return {"peaks": peaks, "grid": cells.shape, "profile": profile, "target": int(target),
            "negative": evidence.negative_share(cells),
            "occluded": occluded_prediction(img, model, (top["row"], top["col"]), baseline, s)}


def occlusion_sentence(label, ev, class_names):
    """One paragraph on one occlusion map (:func:`occlusion_evidence`), e.g.
    "**Image 2 (convertible).** The two strongest cells (0.997 and 0.887) lie on the
    background (100% and 100% of each cell; 0% and 0% on the object) ..."."""
    peaks = ev["peaks"]
    vals = _names("%.3f" % p["value"] for p in peaks)
    if "region" in peaks[0]:
        regions = [p["region"] for p in peaks]
        where = ("on the %s" % _word(regions[0]) if len(set(regions)) == 1 else
                 "on the " + _names(_word(r) for r in regions) + " respectively")
        text = ("The %s strongest cells (%s) lie mostly %s (%s of each cell; %s on the "
                "object)." % (_count(len(peaks)), vals, where, _names(pct(p["coverage"]) for p in peaks),
                              _names(pct(p["on_object"]) for p in peaks)))
    else:
        text = ("The %s strongest cells (%s) are at %s of the %dx%d grid (row, column from "
                "the top left); what lies there only the picture shows."
                % (_count(len(peaks)), vals, _names("(%d, %d)" % (p["row"], p["col"]) for p in peaks),
                   ev["grid"][0], ev["grid"][1]))
    cls, prob = ev["occluded"]
    if cls == ev["target"]:
        text += (" With the strongest cell blacked out the model still predicts %s "
                 "(p = %.3f)." % (class_names[cls], prob))
    else:
        text += (" With the strongest cell replaced by the baseline the model predicts %s "
                 "(p = %.3f)." % (class_names[cls], prob))
    prof = ev["profile"]
    if prof is not None:
        text += (" Over the whole map, %s of the positive mass falls on the background "
                 "(%s chance) and %s on the object (%s); %s."
                 % (pct(prof.share[evidence.BACKGROUND]),
                    evidence.times(prof.ratio[evidence.BACKGROUND]),
                    pct(prof.share["object"]), evidence.times(prof.ratio["object"]),
                    evidence.ranking_sentence("the map", prof,
                                              exclude=("object", evidence.BACKGROUND,
                                                       "distractors"))))
    text += " Negative scores hold %s of the map's absolute mass." % pct(ev["negative"])
    return "**%s.** %s" % (label[:1].upper() + label[1:], text)


def occlusion_summary(evs, labels, class_names):
    """The conclusions drawn from several :func:`occlusion_evidence` (chosen by them)."""
    out = []
    off = [(lab, ev) for lab, ev in zip(labels, evs)
           if "on_object" in ev["peaks"][0] and ev["peaks"][0]["on_object"] == 0]
    flips = [(lab, ev) for lab, ev in off if ev["occluded"][0] != ev["target"]]
    on = [(lab, ev) for lab, ev in zip(labels, evs) if "region" in ev["peaks"][0]
          and ev["peaks"][0]["on_object"] > 0.5 and ev["occluded"][0] != ev["target"]]
    if on:
        out.append("On %s, blacking out the strongest cell (mostly on the %s) turns the "
                   "prediction into %s: the class rests on that part."
                   % (_names(lab for lab, _ in on),
                      _names(_word(ev["peaks"][0]["region"]) for _, ev in on),
                      _names(class_names[ev["occluded"][0]] for _, ev in on)))
    if flips:
        out.append("Occlusion with a black square does not only remove evidence, it adds a "
                   "dark shape: on %s the strongest cell lies entirely off the object, and "
                   "blacking it out turns the prediction into %s. Such a cell scores high "
                   "because the black square reads as part of another class, not because "
                   "the model uses that empty patch in the unoccluded image."
                   % (_names(lab for lab, _ in flips),
                      _names("%s (p = %.3f)" % (class_names[ev["occluded"][0]], ev["occluded"][1])
                             for _, ev in flips)))
    elif off:
        out.append("On %s the strongest cell lies entirely off the object, yet blacking it "
                   "out keeps the predicted class: the model uses context there."
                   % _names(lab for lab, _ in off))
    drops = [(lab, ev) for lab, ev in zip(labels, evs) if ev["peaks"][0]["value"] > 0.5]
    if drops:
        out.append("On %s a single cell moves p_t by more than 0.5 on its own: the decision "
                   "hangs on a few superpixels." % _names(lab for lab, _ in drops))
    neg = max(ev["negative"] for ev in evs)
    out.append("Negative scores (blue: removing the cell raises p_t) hold at most %s of a "
               "map's absolute mass%s." % (pct(neg), "" if neg > 0.05 else
                                             ": with the black baseline almost every cell "
                                             "either matters or does nothing"))
    return " ".join(out)


def _top_region(prof):
    """'arms 4.4x': the region (not the whole object) with the highest ratio to chance."""
    region, r = prof.ranked()[0]
    return "%s %s" % (_word(region), evidence.times(r))


def _ratio_or(prof, region):
    return evidence.times(prof.ratio[region]) if prof is not None else "n/a"


def sizes_answer(sizes, maps, image_size, masks=None):
    """2(d): a Markdown table (size, occluded copies, largest score, cells above 0.01, object
    ratio) and sentences chosen by it.

    Args:
        sizes: superpixel sides; maps: one (H, W) occlusion map per size.
        masks: the image's masks (1, H, W) or None.
    """
    rows, tops, ratios = [], [], []
    for s, m in zip(sizes, maps):
        cells = np.asarray(m)[::s, ::s]
        prof = evidence.part_profile(np.asarray(m)[None], masks) if masks is not None else None
        ratios.append(prof.ratio["object"] if prof is not None else np.nan)
        tops.append(float(cells.max()))
        rows.append("| %dx%d | %d | %.3f | %d of %d |%s"
                    % (s, s, cells.size, cells.max(), (cells > 0.01).sum(), cells.size,
                       "" if prof is None else " %s |" % _ratio_or(prof, "object")))
    table = "\n".join(["| superpixels | occluded copies | largest score | cells above 0.01 |"
                       + ("" if masks is None else " positive mass on the object (x chance) |"),
                       "|---|---|---|---|" + ("" if masks is None else "---|")] + rows)
    order = np.argsort(sizes)
    t = np.asarray(tops)[order]
    if np.all(np.diff(t) < 0):
        trend = ("The largest score falls as the superpixels grow: a small patch can cover "
                 "exactly what the model relies on, while a large cell that cuts a part in "
                 "two removes only half of it.")
    elif np.all(np.diff(t) > 0):
        trend = ("The largest score grows with the superpixels: a large cell removes more "
                 "of the object at once.")
    else:
        trend = "The largest score does not change monotonically with the superpixel size."
    text = table + "\n\n" + trend
    if masks is not None and np.isfinite(ratios).all():
        best = sizes[int(np.argmax(ratios))]
        text += (" The %dx%d map concentrates its positive mass on the object most (%s "
                 "chance)." % (best, best, evidence.times(max(ratios))))
    small, large = sizes[order[0]], sizes[order[-1]]
    text += (" The cost grows with the number of cells: %d occluded copies at %dx%d against %d at "
             "%dx%d, while at %dx%d one cell is %s of the image's side."
             % ((image_size // small) ** 2, small, small, (image_size // large) ** 2, large,
                large, large, large, "a %s" % {2: "half", 4: "quarter"}.get(image_size // large,
                                                                              "1/%d" % (image_size // large))))
    return text


def blur_answer(blurs, occ_black, occ_blur, superpixel_size, masks=None):
    """2(e): the black baseline against blurred ones: largest score, negative share and
    (with masks) where the positive mass falls; sentences chosen by the numbers."""
    s = int(superpixel_size)
    names = ["black"] + ["blur sigma %g px" % b for b in blurs]
    stats = []
    for m in [occ_black] + list(occ_blur):
        cells = np.asarray(m, np.float64)[::s, ::s]
        prof = evidence.part_profile(np.asarray(m)[None], masks) if masks is not None else None
        stats.append((float(cells.max()), evidence.negative_share(cells),
                      int((cells < -0.001).sum()), prof))
    rows = ["| %s | %.3f | %s | %d |%s" % (n, mx, pct(neg), nneg,
                                           " %s |" % _top_region(prof) if prof else "")
            for n, (mx, neg, nneg, prof) in zip(names, stats)]
    table = "\n".join(["| baseline | largest score | negative share of the mass | cells below "
                       "-0.001 |" + ("" if masks is None else " highest region (x chance) |"),
                       "|---|---|---|---|" + ("" if masks is None else "---|")] + rows)
    black_max = stats[0][0]
    blur_max = [st[0] for st in stats[1:]]
    text = table + "\n\n"
    if max(blur_max) < black_max:
        text += ("Every blurred baseline gives smaller scores than black (largest %.3f "
                 "against %.3f): a blurred superpixel keeps its colour and loses only its "
                 "detail, so replacing it removes less of what the model sees."
                 % (max(blur_max), black_max))
    else:
        text += ("A blurred baseline gives scores as large as black's or larger (%.3f "
                 "against %.3f)." % (max(blur_max), black_max))
    order = np.argsort(blurs)
    bm = np.asarray(blur_max)[order]
    if len(bm) > 1:
        text += (" The stronger the blur, the larger the largest score: more of the image is "
                 "removed." if np.all(np.diff(bm) > 0) else
                 " The largest score does not grow steadily with the blur.")
    neg_black, neg_blur = stats[0][1], max(st[1] for st in stats[1:])
    if neg_blur > neg_black:
        text += (" Blurred baselines give more blue cells (up to %s of the mass is negative, "
                 "%s with black): replacing those cells by their blurred version raises p_t."
                 % (pct(neg_blur), pct(neg_black)))
    text += (" The baseline decides what a removal means, so it changes the explanation: "
             "black asks which regions matter, a blur which details matter.")
    return text


def gradient_evidence(maps, masks=None, top=0.1):
    """Per map: the share of its mass in its ``top`` fraction of pixels (focus) and, with
    masks, its positive-mass profile.

    Args:
        maps: dict method -> (N, H, W) non-negative saliency maps.
        masks: dict name -> bool (N, H, W) or None.
    Returns:
        dict method -> list of dicts ``focus``, ``profile`` (or None), one per image.
    """
    out = {}
    for name, m in maps.items():
        m = np.asarray(m)
        f = evidence.focus(m, top=top)
        out[name] = [{"focus": float(f[i]),
                      "profile": (evidence.part_profile(m[i:i + 1], image_masks(masks, i))
                                  if masks is not None else None)} for i in range(len(m))]
    return out


def gradient_answer(ev, image_labels, top=0.1):
    """3(a)-(d): a Markdown table (method x image: focus, and with masks the object's
    and the highest region's ratio to chance) and sentences chosen by it."""
    methods = list(ev)
    masked = ev[methods[0]][0]["profile"] is not None
    head = "| method | " + " | ".join(image_labels) + " |"
    rows = []
    for n in methods:
        cells = []
        for e in ev[n]:
            c = "top %s of pixels hold %s" % (pct(top), pct(e["focus"]))
            if masked:
                c += "; object %s, highest: %s" % (evidence.times(e["profile"].ratio["object"]),
                                                   _top_region(e["profile"]))
            cells.append(c)
        rows.append("| %s | %s |" % (n, " | ".join(cells)))
    text = "\n".join([head, "|---" * (len(image_labels) + 1) + "|"] + rows) + "\n\n"
    mean_focus = {n: np.nanmean([e["focus"] for e in ev[n]]) for n in methods}
    f_rank = sorted(methods, key=lambda n: -mean_focus[n])
    text += ("Focus (share of each map's mass in its top %s of pixels, %s for a map spread "
             "evenly), mean over the images: %s."
             % (pct(top), pct(top), ", ".join("%s %s" % (n, pct(mean_focus[n])) for n in f_rank)))
    text += " %s is the most concentrated, %s the most spread out." % (f_rank[0], f_rank[-1])
    if masked:
        obj = {n: np.nanmean([e["profile"].ratio["object"] for e in ev[n]]) for n in methods}
        o_rank = sorted(methods, key=lambda n: -obj[n])
        text += (" On the object, mean ratio to chance: %s: %s puts its mass on the object "
                 "most, %s least."
                 % (", ".join("%s %s" % (n, evidence.times(obj[n])) for n in o_rank),
                    o_rank[0], o_rank[-1]))
    return text


def completeness_answer(image_labels, p_image, p_baseline, abs_mass, baseline_name):
    """3(c)/(d): by completeness the signed IG attributions add up to
    Delta = p_t(image) - p_t(baseline), and the plotted map (|IG| summed over channels)
    holds A = P + N with P - N = Delta, so the negative attributions are exactly
    N = (A - Delta) / 2: a share (A - Delta) / (2A) of the map's mass.

    Returns:
        Markdown: a table and a sentence chosen by it.
    """
    rows = ["| image | p_t(image) - p_t(%s) | mass of the plotted map | of it negative |"
            % baseline_name, "|---|---|---|---|"]
    neg = []
    for lab, p, q, a in zip(image_labels, p_image, p_baseline, abs_mass):
        d = p - q
        n = (a - d) / (2 * a) if a > 0 else 0.0
        neg.append(n)
        rows.append("| %s | %.3f | %.3f | %s |" % (lab, d, a, pct(n)))
    text = "\n".join(rows) + "\n\n"
    text += ("By completeness the signed attributions add up to p_t(image) - p_t(%s), so the "
             "negative part of each map is (mass - difference) / 2. " % baseline_name)
    big = [lab for lab, n in zip(image_labels, neg) if n > 0.25]
    if big:
        text += ("On %s more than a quarter of the plotted mass is negative: the absolute "
                 "map shows evidence for and against the class alike, and its brightest "
                 "pixels need not raise p_t." % _names(big))
    else:
        text += "Every map is mostly positive attribution."
    return text


def pick_curve_image(p_baseline, threshold=0.5):
    """The first image whose target probability on the baseline is below ``threshold``
    (insertion and deletion start or end at the baseline: an image the baseline itself is
    classified as gives flat curves); 0 when there is none.

    Returns:
        (index, sentence).
    """
    p = np.asarray(p_baseline, np.float64)
    ok = np.flatnonzero(p < threshold)
    if len(ok) == 0:
        return 0, ("Every image's class has p_t(baseline) >= %.1f, so the curves below start "
                   "(insertion) or end (deletion) high whatever the order." % threshold)
    i = int(ok[0])
    skipped = ("" if i == 0 else " %s %s %s skipped: the baseline itself is classified as "
               "%s class (p_t(baseline) = %s)." % (
                   "Image" if i == 1 else "Images", _names(str(j) for j in range(i)),
                   "is" if i == 1 else "are", "its" if i == 1 else "their",
                   _names("%.3f" % v for v in p[:i])))
    return i, "The single-image curves use image %d (p_t(baseline) = %.3f).%s" % (i, p[i], skipped)


def _first_at(x, y, level, below=False):
    """First fraction where y reaches ``level`` (from below, or from above with
    ``below``), linear between samples; nan if never."""
    y = np.asarray(y, np.float64)
    start = y[0] >= level if not below else y[0] <= level
    if start:
        return float(x[0])
    return evidence.crossing(x, y, np.full_like(y, level))["x"]


def _dips(y, depth):
    """How many runs of falling values fall by more than ``depth`` in all."""
    d = np.diff(np.asarray(y, np.float64))
    count, run = 0, 0.0
    for v in list(d) + [0.0]:
        if v < 0:
            run -= v
        else:
            count += run > depth
            run = 0.0
    return int(count)


def curve_answer(num, ins, dele, occ_cells, p_image):
    """4(c)/(d): the single-image curves in numbers.

    Args:
        num: (P,) features inserted/deleted; ins, dele: the curves.
        occ_cells: the image's occlusion score per superpixel (flattened).
        p_image: p_t of the image.
    """
    x = np.asarray(num, np.float64) / num[-1]
    half = 0.5 * p_image
    a_ins, a_del = auc(ins, num), auc(dele, num)
    f_ins = _first_at(x, ins, half)
    f_del = _first_at(x, dele, half, below=True)
    end = ins[-1]
    settled = np.flatnonzero(np.abs(np.asarray(ins) - end) > 0.05)
    f_settle = float(x[settled[-1] + 1]) if len(settled) else 0.0
    drops = _dips(ins, 0.1)
    strong = int(np.sum(np.asarray(occ_cells) > half))
    text = ("Deletion AUC %.3f, insertion AUC %.3f. Deleting in the occlusion order brings "
            "p_t below half of p_t(image) = %.3f after %s of the superpixels; %d superpixel%s "
            "alone drop%s p_t by more than half. Inserting in the same order from the baseline reaches half of "
            "p_t after %s of the superpixels and stays within 0.05 of p_t(image) from %s on"
            % (a_del, a_ins, p_image, pct(f_del), strong, "" if strong == 1 else "s",
               "s" if strong == 1 else "", pct(f_ins), pct(f_settle)))
    text += (", with %d dip%s of more than 0.1 on the way." % (drops, "" if drops == 1 else "s")
             if drops else ", without a dip of more than 0.1.")
    if a_del < 1 - a_ins:
        text += (" The ordering is better at deletion than at insertion: occlusion scores each "
                 "superpixel alone in the context of the full image, while insertion needs "
                 "superpixels that convince the model together, on the baseline.")
    return text


def mean_curves_answer(curves_ins, curves_del, p_baseline_mean, at=(0.05, 0.2)):
    """4(e)/(f): average AUCs ranked (insertion: higher is better; deletion: lower), the
    mean curves at a few fractions, where they cross, and where they start and end."""
    methods = list(curves_ins)
    ai = {n: curves_ins[n][2].mean() for n in methods}
    ad = {n: curves_del[n][2].mean() for n in methods}
    table = ["| method | insertion AUC (higher is better) | deletion AUC (lower is better) | "
             + " | ".join("deletion p_t at %s" % pct(a) for a in at) + " |",
             "|---" * (3 + len(at)) + "|"]
    mean_del = {n: curves_del[n][0].mean(axis=0) for n in methods}
    mean_ins = {n: curves_ins[n][0].mean(axis=0) for n in methods}
    xd = curves_del[methods[0]][1] / float(curves_del[methods[0]][1][-1])
    xi = curves_ins[methods[0]][1] / float(curves_ins[methods[0]][1][-1])
    for n in methods:
        table.append("| %s | %.3f | %.3f | %s |" % (n, ai[n], ad[n], " | ".join(
            "%.2f" % np.interp(a, xd, mean_del[n]) for a in at)))
    ri = sorted(methods, key=lambda n: -ai[n])
    rd = sorted(methods, key=lambda n: ad[n])
    text = "\n".join(table) + "\n\n"
    text += ("Insertion ranks %s; deletion ranks %s. "
             % (" > ".join("%s (%.3f)" % (n, ai[n]) for n in ri),
                " < ".join("%s (%.3f)" % (n, ad[n]) for n in rd)))
    text += ("%s is best on insertion and %s on deletion." % (ri[0], rd[0]) if ri[0] != rd[0]
             else "%s is best on both." % ri[0])
    if "Random" in methods:
        worst = ri[-1] == "Random" and rd[-1] == "Random"
        text += (" Random is last on both metrics, as a map that knows nothing must be." if worst
                 else " Random is not last on both metrics: an explanation here is no better "
                 "than chance on at least one of them.")
        r05 = _first_at(xi, mean_ins["Random"], 0.5)
        text += (" The mean Random insertion curve first reaches 0.5 after %s of the "
                 "superpixels." % pct(r05) if np.isfinite(r05) else
                 " The mean Random insertion curve never reaches 0.5.")
    others = [n for n in methods if n != "Random"]
    if len(others) >= 2:
        a, b = others[:2]
        for kind, xs, mc in (("insertion", xi, mean_ins), ("deletion", xd, mean_del)):
            c = evidence.crossing(xs[1:], mc[a][1:], mc[b][1:])
            if np.isfinite(c["x"]):
                text += (" The mean %s curves of %s and %s first cross at %s of the "
                         "superpixels (%s is %s before)." % (kind, a, b, pct(c["x"]), a,
                                                             "above" if c["before"] > 0 else "below"))
            else:
                text += " The mean %s curves of %s and %s never cross." % (kind, a, b)
    text += (" Every mean insertion curve starts, and every mean deletion curve ends, at %.3f: "
             "the mean of p_t(baseline) over the images." % p_baseline_mean)
    return text


def ground_truth_answer(maps, masks, ablation_ranks=None):
    """The ground-truth comparison: for each method the share of its positive mass on the
    object, and the ratio to chance on the object, the distractors and the background
    (:func:`evaluation.evidence.part_profile`), with a sentence ranking the methods and
    comparing with the ablation metrics' ranking.

    Args:
        maps: dict method -> (N, H, W) maps.
        masks: dict name -> bool (N, H, W) (must hold 'object').
        ablation_ranks: dict metric -> list of methods best first (optional).
    """
    parts = ["object"] + (["distractors"] if "distractors" in masks else [])
    profiles = {n: evidence.part_profile(m, masks, parts=parts) for n, m in maps.items()}
    first = next(iter(profiles.values()))
    rows = ["| method | share on the object | " + " | ".join(
        "%s (x chance)" % _word(r) for r in first.ratio) + " |", "|---" * (len(first.ratio) + 2) + "|"]
    for n, p in profiles.items():
        rows.append("| %s | %s | %s |" % (n, pct(p.share["object"]), " | ".join(
            evidence.times(p.ratio[r], 2) for r in p.ratio)))
    rank = sorted(profiles, key=lambda n: -profiles[n].ratio["object"])
    text = ("The object covers %s of a scene on average.\n\n" % pct(first.area["object"])
            + "\n".join(rows) + "\n\nOn the object: " +
            " > ".join("%s (%s)" % (n, evidence.times(profiles[n].ratio["object"], 2)) for n in rank)
            + ".")
    for metric, order in (ablation_ranks or {}).items():
        common = [n for n in rank if n in order]
        gt = [n for n in common]
        ab = [n for n in order if n in common]
        text += (" The %s ranking of these methods is the same (%s)." % (metric, " > ".join(ab))
                 if gt == ab else " The %s metric ranks them differently (%s)."
                 % (metric, " > ".join(ab)))
    return text
