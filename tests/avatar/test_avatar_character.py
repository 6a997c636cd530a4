"""Tier-0 cartoon renderer: mouth changes stay in the mouth box, blinks show, idle motion is deterministic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engines.avatar.base import AvatarRenderer, IdleMotion
from engines.avatar.character import CartoonAvatar
from engines.avatar.errors import AvatarConfigError
from engines.avatar.style import AvatarStyle, IdleSettings, load_style
from engines.avatar.visemes import CLOSED, SHAPE_PARAMS

WIDE_OPEN = SHAPE_PARAMS["D"]


@pytest.fixture(scope="module")
def avatar() -> CartoonAvatar:
    return CartoonAvatar(512)


@pytest.fixture(scope="module")
def still_avatar() -> CartoonAvatar:
    """No sway and no breathing: only blinks change the picture over time."""
    return CartoonAvatar(256, style=AvatarStyle(idle=IdleSettings(sway_px=0.0, sway_deg=0.0, breath_px=0.0)))


def outside(frame: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    keep = np.ones(frame.shape[:2], bool)
    keep[y : y + h, x : x + w] = False
    return frame[keep]


def inside(frame: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    return frame[y : y + h, x : x + w]


def test_is_an_avatar_renderer_with_bgr_frames(avatar: CartoonAvatar) -> None:
    assert isinstance(avatar, AvatarRenderer)
    frame = avatar.render(CLOSED, 0.0)
    assert frame.shape == (512, 512, 3)
    assert frame.dtype == np.uint8
    assert avatar.size == (512, 512)
    assert frame.std() > 20  # a picture, not a blank frame


@pytest.mark.parametrize("t", [0.0, 1.37, 4.2, 9.9])
def test_open_mouth_changes_only_the_mouth_region(avatar: CartoonAvatar, t: float) -> None:
    closed = avatar.render(CLOSED, t)
    opened = avatar.render(WIDE_OPEN, t)
    box = avatar.mouth_region()
    np.testing.assert_array_equal(outside(closed, box), outside(opened, box))
    changed = np.abs(inside(closed, box).astype(int) - inside(opened, box).astype(int)).max(axis=2) > 30
    assert changed.sum() > 400  # a visibly open mouth, not a few stray pixels


def test_every_shape_draws_a_different_mouth(avatar: CartoonAvatar) -> None:
    box = avatar.mouth_region()
    mouths = {shape: inside(avatar.render(params, 2.0), box) for shape, params in SHAPE_PARAMS.items()}
    for a in mouths:
        for b in mouths:
            if a < b:
                assert not np.array_equal(mouths[a], mouths[b]), (a, b)


def test_mouth_region_is_small(avatar: CartoonAvatar) -> None:
    x, y, w, h = avatar.mouth_region()
    assert w * h < 0.1 * 512 * 512
    assert x >= 0 and y >= 0
    assert x + w <= 512 and y + h <= 512


def test_rendering_is_a_function_of_mouth_and_time(avatar: CartoonAvatar) -> None:
    a = avatar.render(SHAPE_PARAMS["C"], 3.3)
    avatar.render(WIDE_OPEN, 7.0)  # other frames in between must not leak into the next one
    b = avatar.render(SHAPE_PARAMS["C"], 3.3)
    np.testing.assert_array_equal(a, b)
    out = np.empty_like(a)
    assert avatar.render(SHAPE_PARAMS["C"], 3.3, out=out) is out
    np.testing.assert_array_equal(out, a)


def test_head_sways_over_time(avatar: CartoonAvatar) -> None:
    a = avatar.render(CLOSED, 0.5)
    b = avatar.render(CLOSED, 2.5)
    assert not np.array_equal(outside(a, avatar.mouth_region()), outside(b, avatar.mouth_region()))


def test_blink_closes_the_eyes_and_nothing_else(still_avatar: CartoonAvatar) -> None:
    blink = still_avatar.idle.blink_starts(10.0)[0]
    shut_t = blink + IdleMotion.BLINK_CLOSE_S + IdleMotion.BLINK_HOLD_S / 2
    open_t = blink - 0.5
    assert still_avatar.idle.eyelid(shut_t) == 1.0
    assert still_avatar.idle.eyelid(open_t) == 0.0
    shut = still_avatar.render(CLOSED, shut_t)
    opened = still_avatar.render(CLOSED, open_t)
    eyes = still_avatar.eyes_region()
    np.testing.assert_array_equal(outside(shut, eyes), outside(opened, eyes))
    # open eyes show white sclera and a dark pupil; shut ones are skin with a lash line
    bright = lambda img: (inside(img, eyes).min(axis=2) > 240).sum()  # noqa: E731
    assert bright(opened) > 50
    assert bright(shut) < bright(opened) / 5


def test_blink_schedule_is_seeded_and_jittered() -> None:
    a = IdleMotion(seed=3)
    b = IdleMotion(seed=3)
    # asking in a different order gives the same answers
    late_first = [b.eyelid(t) for t in np.arange(20.0, 0.0, -0.01)][::-1]
    in_order = [a.eyelid(t) for t in np.arange(0.01, 20.01, 0.01)]
    assert np.allclose(late_first, in_order)
    starts = np.array(a.blink_starts(60.0))
    gaps = np.diff(starts)
    assert len(starts) >= 60 / 5.5 - 1
    assert gaps.min() >= 0.2 and gaps.max() <= 5.5
    assert gaps.std() > 0.3  # not a metronome
    assert IdleMotion(seed=4).blink_starts(60.0) != a.blink_starts(60.0)


def test_size_must_be_even_and_reasonable() -> None:
    for bad in (511, 64, 4096, "512"):
        with pytest.raises(AvatarConfigError) as err:
            CartoonAvatar(bad)  # type: ignore[arg-type]
        assert err.value.hint


def test_default_style_file_loads() -> None:
    style = load_style()
    assert style.name
    assert style.idle.blink_min_s <= style.idle.blink_max_s


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ('[colors]\nskin = "peach"\n', "#rrggbb"),
        ('[colors]\nskinn = "#ffffff"\n', "skin"),
        ("[idle]\nsway_px = -1\n", "idle.sway_px"),
        ("[idle]\nblink_min_s = 9\nblink_max_s = 2\n", "blink_min_s"),
        ("name = [", "TOML"),
    ],
)
def test_bad_style_files_say_what_to_fix(tmp_path: Path, text: str, expect: str) -> None:
    path = tmp_path / "avatar.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AvatarConfigError) as err:
        load_style(path)
    assert expect in str(err.value)


def test_missing_style_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(AvatarConfigError) as err:
        CartoonAvatar(256, style=tmp_path / "nope.toml")
    assert "not found" in str(err.value)
