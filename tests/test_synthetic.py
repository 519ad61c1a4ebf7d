"""The synthetic world (synthetic_world/scenes.py, objects.py) and the surrogate model (synthetic_world/surrogate.py, train_surrogate.py)."""
import json
import os

import numpy as np
import pytest

from synthetic_world import scenes as S
from synthetic_world import surrogate as SG

FLAT_A = (255, 0, 255)
FLAT_B = (0, 255, 0)
ALL = range(len(S.CLASS_NAMES))
PINNED_SCENES = 'ad87449abf9689fce1482cc187c4bc5e278d23254590136134322ee3c37fb580'
"""sha256 of scenes 1-2 of every class ('heldout', seed 0) and their part and distractor
masks, computed with the generator as it was before the background masks were added."""


def painted_parts(c):
    """Parts whose masks are painted pixels (not 'object', not regions)."""
    return [p for p in S.PARTS[c] if p != 'object' and p not in S.REGION_PARTS.get(c, ())]


# ---------------------------------------------------------------------------
# Determinism and streams
# ---------------------------------------------------------------------------
def test_same_call_gives_same_bytes():
    a, ma = S.generate(1, 5, 'test', seed=3)
    b, mb = S.generate(1, 5, 'test', seed=3)
    assert a.tobytes() == b.tobytes()
    assert all(ma[p].tobytes() == mb[p].tobytes() for p in ma)


def test_images_do_not_depend_on_n_and_start_continues_the_stream():
    full, masks = S.generate(0, 6, 'train')
    assert np.array_equal(S.generate(0, 2, 'train')[0], full[:2])
    tail, tail_masks = S.generate(0, 3, 'train', start=3)
    assert np.array_equal(tail, full[3:])
    assert np.array_equal(tail_masks['arms'], masks['arms'][3:])


def test_splits_seeds_and_classes_use_disjoint_streams():
    batches = [S.generate(7, 4, split)[0] for split in S.SPLITS]
    batches.append(S.generate(7, 4, 'train', seed=1)[0])
    batches.append(S.generate(8, 4, 'train')[0])
    flat = [im.tobytes() for b in batches for im in b]
    assert len(set(flat)) == len(flat)


# ---------------------------------------------------------------------------
# Shapes, dtypes, contract constants
# ---------------------------------------------------------------------------
def test_contract_constants():
    assert S.IMAGE_SIZE == 64 and len(S.CLASS_NAMES) == 10
    assert S.CLASS_NAMES[S.ROLE_CLASSES['sports_car']] == 'sports car'
    assert S.CLASS_NAMES[S.ROLE_CLASSES['convertible']] == 'convertible'
    assert S.CLASS_NAMES[S.ROLE_CLASSES['starfish']] == 'starfish'
    assert sorted(S.COMPRESSION_CLASSES + list(S.ROLE_CLASSES.values())) == list(ALL)


@pytest.mark.parametrize('c', ALL)
def test_shapes_and_dtypes(c):
    images, masks = S.generate(c, 3, 'influence')
    assert images.shape == (3, 64, 64, 3) and images.dtype == np.uint8
    assert set(masks) == set(S.PARTS[c] + S.SCENE_MASKS) and 'object' in masks
    for m in masks.values():
        assert m.shape == (3, 64, 64) and m.dtype == bool
    assert (masks['object'].sum(axis=(1, 2)) > 60).all()
    empty, empty_masks = S.generate(c, 0, 'test')
    assert empty.shape == (0, 64, 64, 3) and set(empty_masks) == set(masks)


# ---------------------------------------------------------------------------
# Masks are exactly the drawn parts
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('c', ALL)
def test_masks_cover_exactly_the_drawn_object(c):
    a, ma = S.generate(c, 12, 'test', flat_background=FLAT_A)
    b, mb = S.generate(c, 12, 'test', flat_background=FLAT_B)
    obj = ma['object']
    assert all(np.array_equal(ma[p], mb[p]) for p in ma)          # geometry ignores background
    assert np.array_equal((a != b).any(-1), ~obj)                  # background = non-object
    assert np.array_equal((a != np.array(FLAT_A, np.uint8)).any(-1), obj)
    border = obj[:, [0, -1], :].any() or obj[:, :, [0, -1]].any()
    assert not border                                               # fully inside the frame
    union = np.zeros_like(obj)
    for p in painted_parts(c):
        assert not (union & ma[p]).any(), 'part %r overlaps another part' % p
        union |= ma[p]
    assert np.array_equal(union, obj)                               # parts tile the object
    assert not ma['distractors'].any()                             # no clutter on flat scenes
    for p in painted_parts(c):
        if p != 'tee':                                              # a ball may lack a tee
            assert ma[p].any(axis=(1, 2)).all(), 'part %r missing in some image' % p


@pytest.mark.parametrize('c', ALL)
def test_object_is_never_occluded_by_clutter(c):
    flat, masks = S.generate(c, 12, 'heldout', flat_background=FLAT_A)
    textured, masks_t = S.generate(c, 12, 'heldout')
    obj = masks['object']
    assert np.array_equal(masks_t['object'], obj)
    assert np.array_equal(textured[obj], flat[obj])


@pytest.mark.parametrize('c', ALL)
def test_distractor_mask_is_the_clutter_painted_in_flat_colours(c):
    images, masks = S.generate(c, 12, 'heldout')
    clutter = masks['distractors']
    assert clutter.any(axis=(1, 2)).all()                           # 1-3 shapes in every scene
    assert not (S._dilate(masks['object'][0]) & clutter[0]).any()   # never touching the object
    assert not any((masks[p] & clutter).any() for p in S.PARTS[c])
    for image, m in zip(images, clutter):
        colours = np.unique(image[m], axis=0)
        assert 1 <= len(colours) <= 3                               # one flat colour a shape


@pytest.mark.parametrize('c', ALL)
def test_background_masks_are_the_visible_background_under_the_drawn_kind(c):
    images, masks = S.generate(c, 12, 'heldout', start=2)
    kinds = S.background_kinds(c, 12, 'heldout', start=2)
    visible = ~masks['object'] & ~masks['distractors']
    for k, name in enumerate(S.BACKGROUND_KINDS):
        np.testing.assert_array_equal(masks[name], visible & (kinds == k)[:, None, None])
    assert set(kinds) <= set(range(len(S.BACKGROUND_KINDS)))
    _, flat = S.generate(c, 3, 'heldout', flat_background=FLAT_A)
    assert not any(flat[name].any() for name in S.BACKGROUND_KINDS)


def test_background_kinds_are_what_the_background_drew():
    """Kinds read from the background stream's first draw: a gradient varies linearly
    (each pixel's colour is an affine function of x, y up to fine noise), stripes repeat."""
    c, n = 7, 30
    images, masks = S.generate(c, n, 'test')
    kinds = S.background_kinds(c, n, 'test')
    assert len(set(kinds.tolist())) == len(S.BACKGROUND_KINDS)     # all three occur
    yy, xx = np.mgrid[0:64, 0:64]
    design = np.stack([np.ones(64 * 64), xx.ravel(), yy.ravel()], 1)
    rgen = [S._rngs(0, S.SPLITS.index('test'), c, i)[1] for i in range(n)]
    for i in range(n):
        bg, kind = S._background(rgen[i])
        assert kind == kinds[i]
        if kind == 0:                                              # exactly linear + noise
            resid = bg.reshape(-1, 3) - design @ np.linalg.lstsq(design, bg.reshape(-1, 3),
                                                                 rcond=None)[0]
            assert resid.std() <= 10.5
    # the labels of the 'background' task are these kinds
    np.testing.assert_array_equal(S.task_labels('background', c, n, 'test'), kinds)
    np.testing.assert_array_equal(S.task_labels('object', c, 4, 'test'), [c] * 4)
    np.testing.assert_array_equal(S.task_labels('stripes', c, n, 'test'),
                                  kinds == S.BACKGROUND_KINDS.index('stripes'))
    with pytest.raises(ValueError, match='task must be one of'):
        S.task_labels('scene', c, 2, 'test')


def test_scenes_stay_byte_identical_to_before_the_scene_masks():
    """The images and part masks of earlier calls are pinned (the notebooks' saved
    outputs depend on them): recording the background's kind draws nothing new."""
    import hashlib
    h = hashlib.sha256()
    for c in ALL:
        ims, ms = S.generate(c, 2, 'heldout', start=1)
        h.update(ims.tobytes())
        for p in S.PARTS[c] + ('distractors',):
            h.update(ms[p].tobytes())
    assert h.hexdigest() == PINNED_SCENES


@pytest.mark.parametrize('interleave', [False, True])
def test_heldout_scenes_are_the_classes_scenes_with_every_mask(interleave):
    """One set of several classes' held-out scenes: each row is the scene generate()
    draws for its class, and each mask is that scene's own, empty where its class has
    no such part."""
    classes, n = (9, 1, 2), 3
    images, labels, masks = S.heldout_scenes(n, classes, seed=1, interleave=interleave)
    order = ([(i, c) for i in range(n) for c in classes] if interleave
             else [(i, c) for c in classes for i in range(n)])
    assert labels.dtype == np.int64 and labels.tolist() == [c for _, c in order]
    drawn = {c: S.generate(c, n, 'heldout', seed=1) for c in classes}
    assert set(masks) == {p for c in classes for p in S.PARTS[c] + S.SCENE_MASKS}
    for row, (i, c) in enumerate(order):
        np.testing.assert_array_equal(images[row], drawn[c][0][i])
        for name, m in masks.items():
            own = drawn[c][1].get(name)
            np.testing.assert_array_equal(m[row], own[i] if own is not None else False)
    with pytest.raises(ValueError, match='per_class'):
        S.heldout_scenes(0)
    with pytest.raises(ValueError, match='at least one class'):
        S.heldout_scenes(1, [])


@pytest.mark.parametrize('c, region, drawn', [(2, 'roof', ('windshield', 'seats')),
                                              (3, 'bed', ('open_bed',))])
def test_region_masks_contain_their_drawn_details(c, region, drawn):
    _, m = S.generate(c, 20, 'test')
    for p in drawn:
        assert not (m[p] & ~m[region]).any()
    assert (m[region] & ~m['object']).any()      # the open top / bed shows background


# ---------------------------------------------------------------------------
# Twins: sports car vs convertible and pickup vs van differ only in one region
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('c, region, shared', [(1, 'roof', ('wheels',)), (2, 'roof', ('wheels',)),
                                               (3, 'bed', ('wheels', 'cab')),
                                               (4, 'bed', ('wheels', 'cab'))])
def test_twins_differ_only_inside_the_region(c, region, shared):
    a, ma = S.generate(c, 20, 'influence')
    b, mb = S.generate_twins(c, 20, 'influence')
    differ = (a != b).any(-1)
    assert not (differ & ~ma[region]).any()
    assert differ.any(axis=(1, 2)).all()          # and they do differ there
    assert np.array_equal(ma[region], mb[region])
    for p in shared:
        assert np.array_equal(ma[p], mb[p])
    assert np.array_equal(ma['body' if c < 3 else 'cab'] & ~ma[region],
                          mb['body' if c < 3 else 'cab'] & ~mb[region])


def region_stats(c, part, n=150):
    m = S.generate(c, n, 'heldout', flat_background=FLAT_A)[1]
    region, obj = m[part], m['object'] | m[part]
    area = region.sum(axis=(1, 2)).astype(float)
    rows = np.arange(64)[None, :, None]
    top = np.array([np.nonzero(o.any(1))[0][0] for o in obj])
    centre = (region * rows).sum(axis=(1, 2)) / area - top   # below the object's top
    return area, centre


@pytest.mark.parametrize('pair, part', [((1, 2), 'roof'), ((3, 4), 'bed')])
def test_twin_regions_have_the_same_geometry_distribution(pair, part):
    (area_a, y_a), (area_b, y_b) = region_stats(pair[0], part), region_stats(pair[1], part)
    for x, y in ((area_a, area_b), (y_a, y_b)):
        se = np.sqrt(x.var() / len(x) + y.var() / len(y))
        assert abs(x.mean() - y.mean()) < 4 * se
        assert 0.75 < x.std() / y.std() < 1.33


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('args, kwargs', [
    ((-1, 2, 'train'), {}), ((10, 2, 'train'), {}), ((1.0, 2, 'train'), {}),
    ((True, 2, 'train'), {}), (('1', 2, 'train'), {}),
    ((1, 2, 'validation'), {}), ((1, 2, None), {}),
    ((1, -1, 'train'), {}), ((1, 2.5, 'train'), {}),
    ((1, 2, 'train'), {'seed': -1}), ((1, 2, 'train'), {'start': -3}),
    ((1, 2, 'train'), {'flat_background': (1, 2)}),
    ((1, 2, 'train'), {'flat_background': (0, 0, 300)}),
    ((1, 2, 'train'), {'flat_background': ('r', 'g', 'b')}),
])
def test_bad_input_raises_value_error(args, kwargs):
    with pytest.raises(ValueError):
        S.generate(*args, **kwargs)


def test_missing_surrogate_files_raise_clear_errors(tmp_path):
    import models
    with pytest.raises(ValueError, match='no surrogate record'):
        SG.surrogate_record(str(tmp_path / 'none.h5'))
    with pytest.raises(models.WeightFileError, match='not found'):
        SG.load_surrogate(str(tmp_path / 'none.h5'))


def test_twins_only_for_twin_classes():
    with pytest.raises(ValueError, match='no twin'):
        S.generate_twins(0, 2, 'test')


# ---------------------------------------------------------------------------
# The committed surrogate model
# ---------------------------------------------------------------------------
@pytest.fixture(scope='module')
def record():
    return SG.surrogate_record()


def test_record_describes_the_committed_weights(record):
    assert os.path.getsize(SG.SURROGATE_PATH) <= 5 * 2 ** 20
    assert tuple(record['widths']) == tuple(SG.SURROGATE_WIDTHS)
    assert record['dense'] == SG.SURROGATE_DENSE
    assert record['class_names'] == S.CLASS_NAMES
    assert record['heldout_accuracy'] >= 0.97
    conf = np.array(record['heldout_confusion'])
    for a, b in ((1, 2), (3, 4)):              # the twin pairs are separated well
        assert conf[a, b] + conf[b, a] <= 0.05 * (conf[a].sum() + conf[b].sum())


def test_committed_weights_reproduce_the_recorded_accuracy(record):
    model = SG.load_surrogate()
    assert len(model.layers) == 37 and model.layers[-1].get_config()['activation'] == 'linear'
    acc = SG.heldout_accuracy(model, record['heldout']['n_per_class'], record['heldout']['seed'])
    assert abs(acc['overall'] - record['heldout_accuracy']) <= 1e-6
    for name, value in acc['per_class'].items():
        assert abs(value - record['heldout_accuracy_per_class'][name]) <= 1e-6
    assert acc['confusion'] == record['heldout_confusion']


def test_train_surrogate_main_smoke(tmp_path):
    from synthetic_world import train_surrogate
    out = str(tmp_path / 'tiny.h5')
    rec = train_surrogate.main(['--epochs', '1', '--n-train-per-class', '3', '--twin-weight', '2',
                                '--batch-size', '8', '--widths', '2', '2', '2', '2', '2',
                                '--dense', '8', '--n-heldout-per-class', '2', '--seed', '5',
                                '--out', out])
    with open(str(tmp_path / 'tiny.json'), encoding='utf8') as f:
        assert json.load(f) == json.loads(json.dumps(rec))
    assert rec['seed'] == 5 and rec['epochs'] == 1 and rec['widths'] == [2] * 5
    per_class = rec['n_train_per_class_per_epoch']
    assert [per_class[S.CLASS_NAMES[c]] for c in ALL] == [6 if c in S.TWINS else 3 for c in ALL]
    assert rec['n_train_images_total'] == 42 and 0 <= rec['heldout_accuracy'] <= 1
    model = SG.load_surrogate(out)
    scores = SG.predict_scores(model, S.generate(6, 2, 'test')[0])
    assert scores.shape == (2, 10) and np.isfinite(scores).all()


# ---------------------------------------------------------------------------
# The second surrogate: the same layout trained on the background's kind
# ---------------------------------------------------------------------------
def test_background_task_training_is_deterministic(tmp_path):
    """Two tiny trainings with the same seed write the same weights, bit for bit."""
    import h5py
    from synthetic_world import train_surrogate
    args = ['--task', 'background', '--epochs', '1', '--n-train-per-class', '2',
            '--twin-weight', '1', '--batch-size', '8', '--widths', '2', '2', '2', '2', '2',
            '--dense', '4', '--n-heldout-per-class', '1', '--seed', '3']
    records, weights = [], []
    for run in ('a', 'b'):
        out = str(tmp_path / ('%s.h5' % run))
        records.append(train_surrogate.main(args + ['--out', out]))
        with h5py.File(out, 'r') as f:
            arrays = []
            f.visititems(lambda name, obj: arrays.append((name, obj[()].tobytes()))
                         if isinstance(obj, h5py.Dataset) else None)
        weights.append(arrays)
    assert weights[0] == weights[1] and len(weights[0]) > 0
    assert records[0]['task'] == 'background'
    assert records[0]['class_names'] == list(S.BACKGROUND_KINDS)
    assert records[0]['heldout_confusion'] == records[1]['heldout_confusion']
    assert SG.load_surrogate(str(tmp_path / 'a.h5')).output_shape == (None, 3)


@pytest.fixture(scope='module')
def background_record():
    return SG.surrogate_record(SG.BACKGROUND_SURROGATE_PATH)


def test_background_record_describes_the_committed_weights(background_record):
    rec = background_record
    assert os.path.getsize(SG.BACKGROUND_SURROGATE_PATH) <= 5 * 2 ** 20
    assert rec['task'] == 'stripes' and rec['class_names'] == S.TASKS['stripes']
    assert tuple(rec['widths']) == tuple(SG.SURROGATE_WIDTHS)    # the first one's layout
    assert rec['dense'] == SG.SURROGATE_DENSE
    assert rec['heldout_accuracy'] >= 0.9


def test_committed_background_weights_reproduce_the_recorded_accuracy(background_record):
    rec = background_record
    model = SG.load_surrogate(SG.BACKGROUND_SURROGATE_PATH)
    assert len(model.layers) == 37 and model.output_shape == (None, len(rec['class_names']))
    acc = SG.heldout_accuracy(model, rec['heldout']['n_per_class'], rec['heldout']['seed'],
                              task=rec['task'])
    assert abs(acc['overall'] - rec['heldout_accuracy']) <= 1e-6
    assert acc['confusion'] == rec['heldout_confusion']
