"""Read the dashboard's HTML in tests: tables by caption, figure tiles, links (stdlib only)."""

from __future__ import annotations

from html.parser import HTMLParser


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict] = {}
        self.tiles: dict[str, dict] = {}
        self.links: list[tuple[str, str]] = []
        self._table: dict | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._cell_href: str | None = None
        self._caption: list[str] | None = None
        self._tile: dict | None = None
        self._tile_part: str | None = None
        self._link: list | None = None
        self._section = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "section":
            self._section = attributes.get("id") or ""
        if tag == "table":
            self._table = {"caption": "", "rows": [], "hrefs": []}
        elif tag == "caption" and self._table is not None:
            self._caption = []
        elif tag == "tr" and self._table is not None:
            self._row, self._row_hrefs = [], []
        elif tag in ("td", "th") and self._row is not None:
            self._cell, self._cell_href = [], None
        elif tag == "a":
            self._link = [attributes.get("href") or "", []]
            if self._cell is not None:
                self._cell_href = attributes.get("href")
        elif tag == "div" and "tile" in (attributes.get("class") or "").split():
            self._tile = {"label": [], "value": [], "detail": [], "href": None}
        elif self._tile is not None and tag == "dt":
            self._tile_part = "label"
        elif self._tile is not None and tag == "dd":
            self._tile_part = "value" if "value" in (attributes.get("class") or "") else "detail"
        if tag == "a" and self._tile is not None and self._tile_part == "value":
            self._tile["href"] = attributes.get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption" and self._caption is not None and self._table is not None:
            self._table["caption"] = " ".join("".join(self._caption).split())
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._row_hrefs.append(self._cell_href)
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self._table["rows"].append(self._row)
            self._table["hrefs"].append(self._row_hrefs)
            self._row = None
        elif tag == "table" and self._table is not None:
            self.tables[self._table["caption"]] = self._table
            self._table = None
        elif tag == "a" and self._link is not None:
            self.links.append((" ".join("".join(self._link[1]).split()), self._link[0]))
            self._link = None
        elif tag in ("dt", "dd"):
            self._tile_part = None
        elif tag == "div" and self._tile is not None and self._tile_part is None:
            label = " ".join("".join(self._tile["label"]).split())
            self.tiles[f"{self._section}:{label}"] = {
                "value": " ".join("".join(self._tile["value"]).split()),
                "detail": " ".join("".join(self._tile["detail"]).split()),
                "href": self._tile["href"],
            }
            self._tile = None

    def handle_data(self, data: str) -> None:
        if self._caption is not None:
            self._caption.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._link is not None:
            self._link[1].append(data)
        if self._tile is not None and self._tile_part is not None:
            self._tile[self._tile_part].append(data)


def parse(html: bytes | str) -> _Page:
    page = _Page()
    page.feed(html.decode() if isinstance(html, bytes) else html)
    return page


def table(html: bytes | str, caption: str) -> list[list[str]]:
    """The rows (header row first) of the table with this caption, cell texts normalised."""
    return parse(html).tables[caption]["rows"]


def tiles(html: bytes | str) -> dict[str, dict]:
    """Figure tiles keyed "<section id>:<label>": value, detail and the value's link."""
    return parse(html).tiles


def table_hrefs(html: bytes | str, caption: str) -> list[list[str | None]]:
    return parse(html).tables[caption]["hrefs"]
