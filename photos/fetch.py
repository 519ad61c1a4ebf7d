"""Fetching one pinned photograph: a verified local copy of the image a row of
``data/images.tsv`` names by URL and sha256.

An image is taken from, in order, the cache ``data/cache/<sha256>.<ext>`` (git-ignored;
``HW3_CACHE_DIR`` moves it), then ``HW3_IMAGE_DIR`` if set (a folder of files named by
sha256, or laid out like the shared ``data/imagenet``; such files are read where they
are, never copied), then its URL, downloaded atomically into the cache
(:func:`models.download`: no partial file is ever left behind). The sha256 is checked
in every case; anything that goes wrong raises :class:`ImageFetchError`, which names
the image, its URL and how to fix it.
"""
import glob
import os
import re
import urllib.parse

import hw3_env

import models

DEFAULT_CACHE_DIR = os.path.join(hw3_env.ROOT, "data", "cache")

FIX_HINT = ("To fix it: set HW3_IMAGE_DIR to a folder holding the image (files named by "
            "sha256, or the shared data/imagenet layout), check the network connection, "
            "or run offline with WORLD='synthetic'.")


class ImageFetchError(RuntimeError):
    """An image that could not be fetched, verified or decoded. The message names the
    image (sha256, class), its URL and how to fix the problem."""


def cache_dir(path=None):
    """The image cache folder: ``path``, else ``$HW3_CACHE_DIR``, else ``data/cache``."""
    return path or os.environ.get("HW3_CACHE_DIR") or DEFAULT_CACHE_DIR


def extension(row):
    """The image file's extension (``.jpg``, ...) from its URL or shared file name,
    ``.img`` when neither has one."""
    for p in (urllib.parse.urlparse(row.get("url", "")).path, row.get("shared_file", "")):
        ext = os.path.splitext(p)[1].lower()
        if re.fullmatch(r"\.[a-z0-9]{1,5}", ext):
            return ext
    return ".img"


def cache_path(row, cache=None):
    """Where the image of ``row`` is cached: ``<cache>/<sha256><ext>``."""
    return os.path.join(cache_dir(cache), row["sha256"].lower() + extension(row))


def describe(row):
    """A short human name for an image row: sha256 prefix, class, role."""
    text = "image %s (class %s %s" % (row["sha256"][:16], row.get("class_index", "?"),
                                      row.get("class_name", "?"))
    if row.get("role"):
        text += ", set %s" % row["role"]
    return text + ")"


def sha256_of(path):
    """Hex sha256 of a file."""
    return models.file_digest(path, "sha256")


def local_candidates(row, image_dir):
    """Files in ``image_dir`` that may hold the image of ``row``: ``<sha256>.*`` (or
    no extension) and the row's ``shared_file`` (manifest layout)."""
    sha = row["sha256"].lower()
    found = sorted(glob.glob(os.path.join(glob.escape(image_dir), sha + ".*")))
    found += [p for p in [os.path.join(image_dir, sha)] if os.path.isfile(p)]
    if row.get("shared_file"):
        p = os.path.join(image_dir, row["shared_file"])
        if os.path.isfile(p):
            found.append(p)
    return found


def fetch(row, cache=None, image_dir=None, timeout=60):
    """Path to a verified local copy of the image of ``row``.

    Looks in the cache, then in ``image_dir``, then downloads ``row['url']`` into the
    cache (atomically, via :func:`models.download`). The sha256 is checked whatever
    the source.

    Args:
        row: a dict with at least ``url`` and ``sha256`` (a ``data/images.tsv`` row).
        cache: the cache folder (default :func:`cache_dir`).
        image_dir: a local image folder; None reads ``$HW3_IMAGE_DIR``, '' disables it.
        timeout: seconds before a stalled download is abandoned.
    Returns:
        the file's path (in ``image_dir`` or in the cache).
    Raises:
        ImageFetchError: wrong hash, or the image is nowhere and cannot be downloaded.
    """
    sha = row["sha256"].lower()
    url = row.get("url", "")
    cached = cache_path(row, cache)
    if os.path.exists(cached):
        got = sha256_of(cached)
        if got != sha:
            raise ImageFetchError(
                "%s: the cached file %s has sha256 %s, expected %s (url %s). Delete it "
                "and run again to fetch a fresh copy." % (describe(row), cached, got, sha, url))
        return cached
    if image_dir is None:
        image_dir = os.environ.get("HW3_IMAGE_DIR", "")
    if image_dir:
        if not os.path.isdir(image_dir):
            raise ImageFetchError("HW3_IMAGE_DIR=%s is not a folder (looking for %s, url %s). "
                                  "Point it at a folder of images or unset it."
                                  % (image_dir, describe(row), url))
        for path in local_candidates(row, image_dir):
            got = sha256_of(path)
            if got != sha:
                raise ImageFetchError(
                    "%s: %s (in HW3_IMAGE_DIR) has sha256 %s, expected %s. Replace it with "
                    "the file at %s, or unset HW3_IMAGE_DIR to download it."
                    % (describe(row), path, got, sha, url))
            return path
    if not url:
        raise ImageFetchError("%s has no url and is not in the cache %s. %s"
                              % (describe(row), cache_dir(cache), FIX_HINT))
    try:
        return models.download(url, cached, sha, "sha256", desc=sha[:12], timeout=timeout,
                               hint=FIX_HINT)
    except models.DownloadError as e:
        raise ImageFetchError("%s could not be fetched: %s" % (describe(row), e)) from e
