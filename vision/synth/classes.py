"""The product's one detector vocabulary (class ids are the positions in ``CLASS_NAMES``)."""

from __future__ import annotations

# One vocabulary for the whole product; the order is the class id. Keep in step with the taxonomy.
CLASS_NAMES: tuple[str, ...] = (
    "vendor_stall",  # 0 stall or cart (游商, 占道经营)
    "goods_outside_shop",  # 1 店外经营
    "material_pile",  # 2 乱堆物堆料
    "banner",  # 3 横幅
    "poster",  # 4 small ads on walls, poles and boxes (小广告)
    "ad_board",  # 5 free-standing on the street (占道广告牌)
    "signboard",  # 6 shop sign above the door (牌匾)
    "cantilever",  # 7 projecting sign
    "win_ad",  # 8 window advertising
    "shed",  # 9 temporary structure (私搭乱建), blue corrugated steel the classic
    "rooftop_addition",  # 10 structure added on a roof
)

VENDOR_STALL, GOODS_OUTSIDE_SHOP, MATERIAL_PILE, BANNER, POSTER, AD_BOARD = range(6)
SIGNBOARD, CANTILEVER, WIN_AD, SHED, ROOFTOP_ADDITION = range(6, 11)
