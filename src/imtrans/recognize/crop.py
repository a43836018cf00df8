"""Cut a line out of a page: its quad, grown by a margin of real context, warped upright."""

from __future__ import annotations

import cv2
import numpy as np

from imtrans.detect.curves import segments_of, straighten
from imtrans.types import Direction, Line


def crop_line(image: np.ndarray, line: Line, pad: float = 0.15, horizontal: bool = True) -> np.ndarray:
    """An upright crop of `line` (RGB), grown on every side by `pad` times its thickness.

    Recognisers read padded crops much better than tight ones. Vertical columns come back
    rotated 90 degrees counter-clockwise (reading left to right, as PP-OCR expects) when
    `horizontal` is true, or upright when false (for Tesseract's vertical Japanese model).
    A curved line (`Line.curve`) comes back straightened along its arc.
    """
    if line.curve:
        return straighten(image, segments_of(line), pad)
    p = np.asarray(line.quad.points, dtype=np.float32)
    e1 = p[1] - p[0]
    e2 = p[3] - p[0]
    w = max(1.0, float(np.hypot(*e1)))
    h = max(1.0, float(np.hypot(*e2)))
    u1, u2 = e1 / w, e2 / h
    thickness = w if line.direction is Direction.VERTICAL else h
    m = pad * thickness
    src = np.array(
        [p[0] - m * u1 - m * u2, p[1] + m * u1 - m * u2, p[2] + m * u1 + m * u2, p[3] - m * u1 + m * u2],
        dtype=np.float32,
    )
    out_w, out_h = round(w + 2 * m), round(h + 2 * m)
    dst = np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    crop = cv2.warpPerspective(
        image, matrix, (out_w, out_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    if line.direction is Direction.VERTICAL and horizontal:
        crop = np.ascontiguousarray(np.rot90(crop))
    return crop
