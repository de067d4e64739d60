"""Draw the integration's brand icon: a meter dial with a lightning bolt.

Home Assistant shows custom_components/energy_meters/brand/icon.png (256 px) and
icon@2x.png (512 px) on the integration's pages. Run from the repository root to redraw
them after changing the drawing:

    .venv/bin/python -m devtools.brand_icon
"""

import math

from PIL import Image, ImageDraw

from devtools.ha_bootstrap import INTEGRATION_DIR

BLUE = (3, 169, 244, 255)  # Home Assistant's primary colour
AMBER = (255, 193, 7, 255)
WHITE = (255, 255, 255, 255)
SUPERSAMPLING = (
    4  # draw larger, then scale down: smooth edges without anti-aliasing support
)

# The bolt's outline on a 256 x 256 grid.
BOLT = ((138, 62), (92, 150), (124, 150), (110, 212), (168, 116), (134, 116), (150, 62))


def draw(size: int) -> Image.Image:
    """The icon as a square RGBA image of `size` pixels."""
    canvas = size * SUPERSAMPLING
    unit = canvas / 256
    image = Image.new("RGBA", (canvas, canvas), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle(
        (8 * unit, 8 * unit, 248 * unit, 248 * unit), radius=48 * unit, fill=BLUE
    )
    # The dial: a 220 degree arc, open at the bottom, with seven ticks.
    cx, cy, radius = 128 * unit, 140 * unit, 84 * unit
    pen.arc(
        (cx - radius, cy - radius, cx + radius, cy + radius),
        start=160,
        end=380,
        fill=WHITE,
        width=round(14 * unit),
    )
    for tick in range(7):
        angle = math.radians(160 + tick * 220 / 6)
        outer, inner = radius - 22 * unit, radius - 34 * unit
        pen.line(
            (
                cx + outer * math.cos(angle),
                cy + outer * math.sin(angle),
                cx + inner * math.cos(angle),
                cy + inner * math.sin(angle),
            ),
            fill=WHITE,
            width=round(7 * unit),
        )
    pen.polygon(
        [(x * unit, y * unit) for x, y in BOLT],
        fill=AMBER,
        outline=WHITE,
        width=round(6 * unit),
    )
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    """Write icon.png and icon@2x.png into the integration's brand folder."""
    brand = INTEGRATION_DIR / "brand"
    brand.mkdir(exist_ok=True)
    for name, size in (("icon.png", 256), ("icon@2x.png", 512)):
        draw(size).save(brand / name, optimize=True)
        print(f"wrote {brand / name}")


if __name__ == "__main__":
    main()
