"""The national five key industries as GB/T 4754-2017 divisions (SPEC 7.7)."""


def _divisions(section: str, first: int, last: int) -> list[str]:
    return [f"{section}{n:02d}" for n in range(first, last + 1)]


NATIONAL_KEY_INDUSTRIES: tuple[tuple[str, str, str, list[str]], ...] = (
    ("hazardous_chemicals", "危险化学品", "Hazardous chemicals", _divisions("C", 25, 26)),
    ("mining", "矿山", "Mining", _divisions("B", 6, 12)),
    ("construction", "建筑施工", "Construction", _divisions("E", 47, 50)),
    ("transportation", "交通运输", "Transportation", _divisions("G", 53, 58)),
    ("machinery_manufacturing", "机械制造", "Machinery manufacturing", _divisions("C", 33, 38)),
)
