"""Decoding a photograph into the RGB uint8 array the models take."""
import numpy as np

import models


def decode_image(source):
    """Decode an image file into RGB uint8, whatever its mode.

    EXIF orientation is applied; greyscale, 16-bit, CMYK, palette and other modes are
    converted to RGB; transparent images (RGBA, LA, palette with transparency) are
    composited on white.

    Args:
        source: a path, bytes, or a binary file object.
    Returns:
        uint8 array (H, W, 3).
    Raises:
        OSError / PIL.UnidentifiedImageError: not a readable image.
    """
    import io
    from PIL import Image, ImageOps
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    with Image.open(source) as im:
        im.load()
        im = ImageOps.exif_transpose(im)
        if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
            a = np.asarray(im, dtype=np.float64)
            top = 65535.0 if im.mode.startswith("I;16") or a.max() > 255 else 255.0
            im = Image.fromarray(np.clip(np.round(a * 255.0 / top), 0, 255).astype(np.uint8))
        if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
                im.mode in ("P", "L", "RGB") and "transparency" in im.info):
            rgba = im.convert("RGBA")
            out = Image.new("RGB", rgba.size, (255, 255, 255))
            out.paste(rgba, mask=rgba.getchannel("A"))
            im = out
        elif im.mode != "RGB":
            im = im.convert("RGB")
        return np.array(im, dtype=np.uint8)


def load_image(path, size=224):
    """Decode ``path`` (:func:`decode_image`) and resize/centre-crop it to ``size``.

    Returns:
        uint8 (size, size, 3).
    """
    return models.resize_crop(decode_image(path), size)
