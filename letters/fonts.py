"""The CJK faces shipped with the portal, so a letter renders on a machine without any system font.

The OFL Noto Serif CJK SC and Noto Sans CJK SC faces come from the pinned ``mplfonts`` package on
PyPI (a wheel that carries the .otf files); nothing is taken from the operating system. They end
every role's stack: uploaded fonts and the usual Windows faces (仿宋, 小标宋, 黑体, 楷体) still win
where an administrator has provided them. The package also carries SimHei, which is not freely
licensed; the portal never loads it.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

SERIF = "Portal Noto Serif CJK SC"
SANS = "Portal Noto Sans CJK SC"
FILES = {SERIF: "NotoSerifCJKsc-Regular.otf", SANS: "NotoSansCJKsc-Regular.otf"}


@cache
def font_dir() -> Path:
    return Path(str(resources.files("mplfonts") / "fonts"))


def bundled_faces() -> list[dict]:
    """``{"family", "url"}`` for each shipped face (file URLs, read by WeasyPrint)."""
    faces = []
    for family, filename in FILES.items():
        path = font_dir() / filename
        if path.is_file():
            faces.append({"family": family, "url": path.as_uri()})
    return faces


def bundled_css() -> str:
    return "\n".join(
        '@font-face { font-family: "%s"; src: url("%s"); font-weight: 100 900; font-style: normal; }'
        % (face["family"], face["url"])
        for face in bundled_faces()
    )
