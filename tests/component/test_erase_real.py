"""Erasing real sign lettering: crops of the development photos, cut at test time.

The photos are read from `../shared/data/realphotos-dev/` beside the checkout, never copied
here. Each case is a line as the detector boxes it on the full photo (its quad, in photo
pixels), on a crop around it; a sample of the plate beside the letters gives the colour the
erased letters must take.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from fixtures import shared_dataset

from imtrans.erase import build_text_mask, make_eraser
from imtrans.erase.background import vector_norm
from imtrans.erase.telea import TeleaSettings
from imtrans.imageio import load_image
from imtrans.registry import ERASERS
from imtrans.types import Line, Quad

# name: (photo, crop box, plate sample box, the detector's quad), boxes as (x0, y0, x1, y1).
CASES = {
    # Green and black syllables on a lightbox lit unevenly, its ring on the lights and the
    # awning around it (the mask used to take the plate for the text and smear it).
    "two_colour_title_on_a_lightbox": (
        "ko35_sign_bbq_restaurant_front.jpg",
        (400, 700, 2150, 1700),
        (430, 1100, 520, 1200),
        [(519.5, 923.8), (1961.0, 853.0), (1992.0, 1490.0), (550.7, 1560.6)],
    ),
    # Yellow letters with a dark rim on a red plate, the ring half on the white menu below.
    "rimmed_title_on_a_red_plate": (
        "ko04_sign_lunch_specials.jpg",
        (560, 740, 1950, 1340),
        (580, 800, 640, 860),
        [(676.0, 843.7), (1849.3, 878.9), (1837.9, 1257.8), (664.7, 1222.7)],
    ),
    # White letters on a small blue plate lit by the shop's lamps (ko35's 眞露 sign): the
    # ring is the white disc above and the wood below, and no one blue covers a quarter of
    # the core; the line fell back to its whole box and was smeared grey and black.
    "white_letters_on_a_lamp_lit_blue_plate": (
        "ko35_sign_bbq_restaurant_front.jpg",
        (1900, 2200, 2270, 2520),
        (2160, 2350, 2175, 2370),
        [(1996.1, 2312.5), (2171.9, 2312.5), (2171.9, 2429.7), (1996.1, 2429.7)],
    ),
}
# Letters: pixels this far (RGB distance) from the plate sample before erasing.
_LETTER = 60.0


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["telea", "gan"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_sign_lettering_is_erased_to_its_plate(case: str, backend: str) -> None:
    name, (x0, y0, x1, y1), (px0, py0, px1, py1), points = CASES[case]
    photo = load_image(shared_dataset("realphotos-dev") / name)
    crop = np.ascontiguousarray(photo[y0:y1, x0:x1])
    plate = np.median(photo[py0:py1, px0:px1].reshape(-1, 3), axis=0).astype(np.float32)
    quad = Quad.from_list([(x - x0, y - y0) for x, y in points])

    text = build_text_mask(crop, [Line(id="title", quad=quad)], 2)
    erased = make_eraser(ERASERS.options(backend)(backend=backend)).erase(crop, text.mask)

    assert text.fallback_line_ids == ()
    # The line's core (the quad less 15% of its thickness: on the plate, clear of the lights).
    inset = round(0.15 * min(quad.width, quad.height))
    core = np.zeros(crop.shape[:2], np.uint8)
    cv2.fillPoly(core, [np.round(np.asarray(quad.points)).astype(np.int32)], 1)
    core = cv2.erode(core, np.ones((2 * inset + 1, 2 * inset + 1), np.uint8)) > 0
    letters = core & (vector_norm(crop.astype(np.float32) - plate) > _LETTER)
    assert letters.mean() > 0.3 * core.mean()  # the crop holds the lettering
    left = vector_norm(erased.astype(np.float32) - plate)
    # No letter is left, nor a dark copy of its rim around it.
    assert (left[letters] > _LETTER).mean() < 0.05
    around = core & (cv2.dilate(letters.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0)
    assert np.percentile(left[around], 90) < 55.0


@pytest.mark.slow
def test_thick_white_outline_is_erased_to_the_sign() -> None:
    # Red letters with a white outline about 15 px wide and a dark shadow on a yellow sign
    # (zh01's title 何佳佳): the outline reaches into the ring, and only the red was masked,
    # so the fill drew the letters again in the outline's white and pink.
    photo = load_image(shared_dataset("realphotos-dev") / "zh01_menu_scallion_pancake_stall.jpg")
    x0, y0, x1, y1 = 780, 0, 2230, 600
    crop = np.ascontiguousarray(photo[y0:y1, x0:x1])
    points = [(920.1, -11.8), (2086.9, 0.0), (2082.2, 458.7), (915.5, 446.9)]
    quad = Quad.from_list([(x - x0, y - y0) for x, y in points])

    text = build_text_mask(crop, [Line(id="title", quad=quad)], 2)
    erased = make_eraser(TeleaSettings()).erase(crop, text.mask).astype(np.float32)

    assert text.fallback_line_ids == ()
    masked = text.mask > 0
    # The sign's yellow: the unmasked pixels around the mask, inside the quad's rows.
    around = (cv2.dilate(text.mask, np.ones((41, 41), np.uint8)) > 0) & ~masked
    around[460:] = False
    yellow = np.median(crop[around].astype(np.float32), axis=0)
    assert yellow[2] < 0.5 * yellow[0]  # yellow: little blue
    left = vector_norm(erased[masked] - yellow)
    # The outline is about 50 away from the yellow (a dim photo: its "white" is beige); the
    # fill was 53 away (median) and 70% outline-coloured before, 31 and 5% after.
    assert np.median(left) < 40.0
    # Little is left in the outline's colour (blue far above the yellow's).
    assert (erased[masked][:, 2] > yellow[2] + 30).mean() < 0.15


# zh01's sign as the detector boxes it on the full photo: the title 葱油 and 餅, the name
# 何佳佳 and 純手工 above, the price line below, and the slogan 外酥內柔 層次感豐富 (left as it
# is) set inside the title's box.
_ZH01_LINES = {
    "name": [(920.1, -11.8), (2086.9, 0.0), (2082.2, 458.7), (915.5, 446.9)],
    "handmade": [(2038.7, 161.4), (2457.0, 196.9), (2438.3, 417.5), (2019.9, 381.9)],
    "title_left": [(1283.6, 328.8), (2930.4, 328.8), (2930.4, 1126.1), (1283.6, 1126.1)],
    "title_right": [(2759.4, 484.3), (3482.7, 474.5), (3491.4, 1112.3), (2768.1, 1122.2)],
    "price": [(2775.9, 1126.1), (3526.7, 1090.7), (3533.9, 1244.3), (2783.2, 1279.7)],
}
_ZH01_SLOGAN = [(2102.6, 939.1), (3089.0, 939.1), (3089.0, 1185.2), (2102.6, 1185.2)]


@pytest.mark.slow
def test_a_lit_signs_title_and_price_are_erased_to_the_plate_and_its_slogan_kept() -> None:
    # Red letters with a thick white outline on a yellow plate under a lamp, its glare over
    # 餅: 葱油 took the plate for text and 餅 fell back to its whole box (a blurred plate with
    # a white ghost of 油's outline, the slogan half erased); the price line's mask took in
    # the plate's edge and the stall below, and the fill dragged their dark into purple blots.
    photo = load_image(shared_dataset("realphotos-dev") / "zh01_menu_scallion_pancake_stall.jpg")
    x0, y0, x1, y1 = 1000, 0, 3700, 1400
    crop = np.ascontiguousarray(photo[y0:y1, x0:x1])

    def line(name: str, points: list[tuple[float, float]]) -> Line:
        return Line(id=name, quad=Quad.from_list([(x - x0, y - y0) for x, y in points]))

    lines = [line(name, points) for name, points in _ZH01_LINES.items()]
    text = build_text_mask(crop, lines, 2, kept=[line("slogan", _ZH01_SLOGAN)])
    masked = text.mask > 0
    erased = make_eraser(TeleaSettings()).erase(crop, text.mask).astype(int)

    assert text.fallback_line_ids == ()
    rgb = crop.astype(int)
    title = np.zeros(masked.shape, np.uint8)
    for ln in lines[2:4]:
        cv2.fillPoly(title, [np.round(np.asarray(ln.quad.points)).astype(np.int32)], 1)
    red = (title > 0) & (rgb[..., 0] > rgb[..., 1] + 50) & (rgb[..., 0] > 120)
    assert (masked & red).sum() > 0.97 * red.sum()
    # The slogan's dark letters are untouched.
    slogan = np.zeros(masked.shape, bool)
    slogan[1000 - y0 : 1120 - y0, 2150 - x0 : 3050 - x0] = True
    slogan &= rgb.max(axis=2) < 110
    assert (masked & slogan).mean() < 0.01 * slogan.mean()
    # Where 油 stood: the plate, neither its white outline nor its red.
    you = erased[430 - y0 : 1000 - y0, 2230 - x0 : 2770 - x0]
    assert (you.min(axis=2) > 200).mean() < 0.01
    assert (you[..., 0] > you[..., 1] + 50).mean() < 0.02
    # The tip of 餅's top stroke, washed out by the glare, went with the stroke (68% left before).
    tip = erased[525 - y0 : 585 - y0, 3300 - x0 : 3350 - x0]
    assert (tip[..., 0] - tip[..., 1] > 35).mean() < 0.1
    # Nothing below the plate's bottom edge (a line from (2790, 1262) to (3520, 1228)) is masked.
    below = np.zeros(masked.shape, bool)
    for x in range(2800, 3500):
        edge = 1262 + (1228 - 1262) * (x - 2790) / (3520 - 2790)
        below[int(edge) + 30 - y0 :, x - x0] = True
    assert (masked & below).sum() < 500
