"""Chinese-looking text: glyphs from a CJK font when the machine has one, else pseudo-characters of strokes.

The pseudo-characters are made of the strokes hanzi are made of (横 竖 撇 捺 点 口) in the usual layouts
(left-right, top-bottom, enclosure); at sign and banner distances they read as Chinese text to a detector.
The font is found by :func:`vision.fonts.cjk_font_path` (``XIUHUA_CJK_FONT`` forces one, or ``none``).
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

from vision.fonts import cjk_font_path

Mask = npt.NDArray[np.uint8]
GLYPH_PX = 48
_ATLAS_SIZE = 320
_ATLAS_SEED = 20240611

# Characters common on Chinese signboards, banners and small ads.
_COMMON_HANZI = (
    "店超市便利水果蔬菜生鲜肉面馆饭餐厅小吃烧烤火锅麻辣烫粥包子饺子馄饨奶茶咖啡蛋糕烘焙药房诊所牙科美容美发"
    "理发足浴按摩五金建材装饰电器手机维修通讯眼镜服装鞋帽童装内衣化妆品母婴宠物花店烟酒茶叶粮油调味干货批发"
    "零售酒店宾馆旅社网吧棋牌书店文具打印复印开锁配钥匙家政搬家快递驿站银行房产中介培训教育学校幼儿园汽修洗车"
    "热烈庆祝欢迎开业大吉优惠促销特价折扣清仓甩卖全场新品上市招聘转让出租办证贷款联系电话创建文明城市共建美好"
    "家园安全生产人人有责禁止乱贴乱画违者必究加强管理整治环境卫生讲文明树新风社区服务中心党员先锋岗爱国诚信友善"
)


def _pseudo_component(canvas: Mask, rng: np.random.Generator, x0: int, y0: int, w: int, h: int, t: int) -> None:
    """Draw 2-5 strokes inside one component box."""
    extra = rng.choice(["h", "v", "pie", "na", "dot", "kou", "h"], size=int(rng.integers(1, 4)))
    for kind in ["h", "v", *extra]:
        fx, fy = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9)
        if kind == "h":
            y = y0 + int(h * fy)
            a, b = x0 + int(w * rng.uniform(0.0, 0.3)), x0 + int(w * rng.uniform(0.7, 1.0))
            cv2.line(canvas, (a, y), (b, y), 255, t)
        elif kind == "v":
            x = x0 + int(w * fx)
            a, b = y0 + int(h * rng.uniform(0.0, 0.3)), y0 + int(h * rng.uniform(0.7, 1.0))
            cv2.line(canvas, (x, a), (x, b), 255, t)
        elif kind in ("pie", "na"):
            sign = -1 if kind == "pie" else 1
            cx = x0 + int(w * fx)
            pts = [(cx + int(sign * w * 0.35 * (k / 4) ** 1.6), y0 + int(h * (0.15 + 0.75 * k / 4))) for k in range(5)]
            cv2.polylines(canvas, [np.array(pts, np.int32)], False, 255, t)
        elif kind == "dot":
            x, y = x0 + int(w * fx), y0 + int(h * fy)
            cv2.line(canvas, (x, y), (x + max(t, 2), y + max(t, 2) + 1), 255, t + 1)
        else:
            a, b = x0 + int(w * 0.2), y0 + int(h * rng.uniform(0.2, 0.5))
            cv2.rectangle(canvas, (a, b), (x0 + int(w * 0.8), min(b + int(h * 0.45), y0 + h)), 255, t)


def _pseudo_glyph(rng: np.random.Generator, thickness: int) -> Mask:
    size = GLYPH_PX
    canvas = np.zeros((size, size), np.uint8)
    m = 4
    layout = rng.choice(["single", "lr", "tb", "enclose", "lr", "tb"])
    inner = size - 2 * m
    if layout == "lr":
        split = int(inner * rng.uniform(0.35, 0.5))
        _pseudo_component(canvas, rng, m, m, split - 2, inner, thickness)
        _pseudo_component(canvas, rng, m + split + 2, m, inner - split - 2, inner, thickness)
    elif layout == "tb":
        split = int(inner * rng.uniform(0.35, 0.55))
        _pseudo_component(canvas, rng, m, m, inner, split - 2, thickness)
        _pseudo_component(canvas, rng, m, m + split + 2, inner, inner - split - 2, thickness)
    elif layout == "enclose":
        cv2.rectangle(canvas, (m + 1, m + 1), (size - m - 2, size - m - 2), 255, thickness)
        _pseudo_component(canvas, rng, m + 8, m + 8, inner - 16, inner - 16, max(thickness - 1, 1))
    else:
        _pseudo_component(canvas, rng, m, m, inner, inner, thickness)
    return canvas


def _font_glyphs(path: str, bold: bool) -> list[Mask]:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(path, GLYPH_PX - 6)
    glyphs = []
    for char in dict.fromkeys(_COMMON_HANZI):
        image = Image.new("L", (GLYPH_PX, GLYPH_PX), 0)
        ImageDraw.Draw(image).text((3, 0), char, fill=255, font=font, stroke_width=1 if bold else 0)
        glyphs.append(np.asarray(image, np.uint8))
    return glyphs


@lru_cache(maxsize=4)
def glyph_atlas(bold: bool) -> tuple[Mask, ...]:
    """The process-wide glyph set (identical in every process, so rendering stays deterministic)."""
    path = cjk_font_path()
    if path is not None:
        try:
            return tuple(_font_glyphs(path, bold))
        except OSError:
            pass
    rng = np.random.default_rng(_ATLAS_SEED + int(bold))
    return tuple(_pseudo_glyph(rng, 5 if bold else 3) for _ in range(_ATLAS_SIZE))


def text_mask(rng: np.random.Generator, count: int, cell: int, bold: bool = True, vertical: bool = False) -> Mask:
    """A row (or column) of ``count`` random characters, each ``cell`` pixels square; 0-255 coverage."""
    atlas = glyph_atlas(bold)
    picks = rng.integers(0, len(atlas), size=count)
    glyphs = [atlas[int(p)] for p in picks]
    gap = np.zeros((GLYPH_PX // 10, GLYPH_PX) if vertical else (GLYPH_PX, GLYPH_PX // 10), np.uint8)
    pieces: list[Mask] = []
    for i, glyph in enumerate(glyphs):
        if i:
            pieces.append(gap)
        pieces.append(glyph)
    strip = np.concatenate(pieces, axis=0 if vertical else 1)
    scale = max(cell, 1) / GLYPH_PX
    size = (max(round(strip.shape[1] * scale), 1), max(round(strip.shape[0] * scale), 1))
    resized = cv2.resize(strip, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    return np.asarray(resized, np.uint8)


def latin_mask(text: str, height: int, thickness: int = 2) -> Mask:
    """Digits and latin letters (phone numbers, prices) as a 0-255 coverage mask of the given height."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = height / 30.0
    (tw, th), base = cv2.getTextSize(text, font, scale, thickness)
    out = np.zeros((th + base + 2, tw + 2), np.uint8)
    cv2.putText(out, text, (1, th + 1), font, scale, 255, thickness, cv2.LINE_AA)
    return out


def paste(canvas: npt.NDArray[np.uint8], mask: Mask, x: int, y: int, color: tuple[int, int, int]) -> None:
    """Paint ``color`` through ``mask`` onto ``canvas`` at ``(x, y)``, clipped to the canvas."""
    h, w = canvas.shape[:2]
    mh, mw = mask.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + mw, w), min(y + mh, h)
    if x0 >= x1 or y0 >= y1:
        return
    sub = mask[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32)[..., None] / 255.0
    roi = canvas[y0:y1, x0:x1].astype(np.float32)
    canvas[y0:y1, x0:x1] = (roi * (1 - sub) + np.array(color, np.float32) * sub).astype(np.uint8)


def phone_number(rng: np.random.Generator) -> str:
    """A mobile-number-looking string."""
    return f"1{rng.integers(30, 99)}{rng.integers(0, 10**4):04d}{rng.integers(0, 10**4):04d}"


def pinyin_word(rng: np.random.Generator) -> str:
    """An upper-case latin word of the kind printed under shop names."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "".join(letters[int(i)] for i in rng.integers(0, 26, size=int(rng.integers(3, 9))))
