"""Reading the public pages in tests: their HTML as a tree, their tables, their downloads;
and a delegation with records of every kind to read them on."""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

from django.urls import reverse
from django.utils import translation

from deals.models import Agreement, AgreementStatus, PledgeStatus
from delegations.models import Delegation, OrganizationKind, RegistrationStatus
from tests.factories import (
    AgreementFactory,
    CiftisPledgeFactory,
    DelegationFactory,
    ExhibitorFactory,
    InvestmentIntentionFactory,
    OrganizationFactory,
    RegistrationFactory,
    SectorFactory,
    VisitFactory,
    edition,
)

# ---------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
SPACES = re.compile(r"\s+")


@dataclass(eq=False)
class Node:
    """An element of a parsed page."""

    tag: str
    attrs: dict[str, str]
    parent: Node | None = None
    children: list[Node | str] = field(default_factory=list)

    def __getitem__(self, name: str) -> str:
        return self.attrs[name]

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    @property
    def text(self) -> str:
        """The text inside, its runs of white space made one space."""
        return SPACES.sub(" ", "".join(self._texts())).strip()

    def _texts(self) -> Iterator[str]:
        for child in self.children:
            if isinstance(child, str):
                yield child
            else:
                yield from child._texts()

    def elements(self) -> Iterator[Node]:
        """Every element inside, in document order."""
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.elements()

    def select(self, tag: str | None = None, *, class_: str | None = None, **attrs: str) -> list:
        """The elements inside with this tag, class and attributes (`data_figure="x"` is
        `data-figure="x"`; True means the attribute is there, whatever its value)."""
        wanted = {name.replace("_", "-"): value for name, value in attrs.items()}
        return [
            node
            for node in self.elements()
            if (tag is None or node.tag == tag)
            and (class_ is None or class_ in node.classes)
            and all(
                (name in node.attrs) if value is True else node.attrs.get(name) == value
                for name, value in wanted.items()
            )
        ]

    def one(self, tag: str | None = None, *, class_: str | None = None, **attrs: str) -> Node:
        found = self.select(tag, class_=class_, **attrs)
        assert len(found) == 1, f"{len(found)} × {tag} {class_ or ''} {attrs}"
        return found[0]

    def ancestors(self) -> Iterator[Node]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.open: list[Node] = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {name: value or "" for name, value in attrs}, parent=self.open[-1])
        self.open[-1].children.append(node)
        if tag not in VOID:
            self.open.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.open.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        assert any(node.tag == tag for node in self.open[1:]), f"</{tag}> closes nothing"
        while self.open.pop().tag != tag:
            pass

    def handle_data(self, data: str) -> None:
        self.open[-1].children.append(data)


def parse(content: bytes | str) -> Node:
    parser = _Parser()
    parser.feed(content.decode() if isinstance(content, bytes) else content)
    parser.close()
    return parser.root


BEIJING_2019 = {"edition": "ciie-2019", "delegation": "beijing"}


def url(name: str, language: str = "en", query: str = "", **kwargs: Any) -> str:
    """The address of a public page (`name`) in a language, with a query string."""
    with translation.override(language):
        return reverse(name, kwargs=kwargs or None) + query


def get_page(client, url: str, **extra: Any) -> Node:
    """The page at `url`, which must answer 200, as a tree."""
    response = client.get(url, **extra)
    assert response.status_code == 200, (url, response.status_code)
    return parse(response.content)


def record_count(page: Node) -> int:
    """How many records a list page says match its filters."""
    return int(page.one("span", data_count=True)["data-count"])


def table_rows(page: Node, caption_id: str) -> list[Node]:
    """The body rows of the table whose caption has this id."""
    caption = page.one("caption", id=caption_id)
    table = caption.parent
    assert table is not None and table.tag == "table"
    return [
        row for row in table.select("tr") if row.parent is not None and row.parent.tag != "thead"
    ]


def list_rows(page: Node) -> list[Node]:
    """The records listed on a list page (its main table), "no records" row left out."""
    return [row for row in table_rows(page, "records-caption") if row.select("th")]


def first_cells(page: Node) -> list[str]:
    """The first cell of every listed record (an organization's or exhibitor's name, an
    agreement's reference)."""
    return [row.select("th")[0].text for row in list_rows(page)]


def link(page: Node, **attrs: str) -> str:
    return page.one("a", **attrs)["href"]


# ---------------------------------------------------------------------------------------
# Downloads
# ---------------------------------------------------------------------------------------


def content(response) -> bytes:
    """A response's body, streamed or not (reading a stream runs its queries)."""
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def csv_rows(response) -> list[list[str]]:
    """The rows of a CSV download, its header first, the byte order mark removed."""
    text = content(response).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def json_rows(response) -> list[dict[str, Any]]:
    return json.loads(content(response))["rows"]


# ---------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------


def beijing(year: int = 2019, **kwargs: Any) -> Delegation:
    return DelegationFactory(edition=edition(f"ciie-{year}"), **kwargs)


def shanghai(year: int = 2019) -> Delegation:
    return DelegationFactory(
        edition=edition(f"ciie-{year}"),
        slug="shanghai",
        name_zh="上海",
        name_en="Shanghai",
        organizer_zh="上海市商务委员会",
        organizer_en="Shanghai Municipal Commission of Commerce",
    )


def district(parent: Delegation, slug: str = "chaoyang") -> Delegation:
    return DelegationFactory(
        edition=parent.edition,
        parent=parent,
        slug=slug,
        name_zh=f"{slug}区",
        name_en=f"{slug.title()} District",
        organizer_zh="",
        organizer_en="",
    )


def publish(*delegations: Delegation) -> None:
    """Publish the figures of each delegation as they are now, as a reviewer would: the
    public pages show published figures only."""
    from deals.services import figures_publish

    for delegation in delegations:
        figures_publish(delegation=delegation, user=None, as_of=datetime.date(2019, 11, 11))


def agreement_in(delegation: Delegation, **kwargs: Any) -> Agreement:
    """A counted agreement of a new buyer registered in `delegation`."""
    if "registration" not in kwargs:
        kwargs["registration"] = RegistrationFactory(delegation=delegation)
    kwargs.setdefault("signed_on", datetime.date(delegation.edition.year, 11, 6))
    return AgreementFactory(**kwargs)


COUNTRIES = ["GB", "JP", "US", "DE", "FR", "IT", "KR", "AU", "CA", "NZ"]
KINDS = list(OrganizationKind.values)


def populate(delegation: Delegation, size: int, *, start: int = 0) -> None:
    """`size` records of every kind the public pages show, in `delegation` and in a
    sub-delegation of it (`start` numbers them on from an earlier call): registrations
    (some withdrawn, some large importers), agreements (some undisclosed, some
    cancelled, with one or two exhibitors), visits, investment intentions and pledges
    (some withdrawn)."""
    sub = Delegation.objects.filter(parent=delegation).first() or district(delegation)
    sectors = [SectorFactory(code=f"sector-{n}") for n in range(3)]
    for n in range(start, start + size):
        where = delegation if n % 2 else sub
        buyer = RegistrationFactory(
            delegation=where,
            participants=1 + n % 4,
            is_purchaser=n % 5 != 0,
            status=RegistrationStatus.WITHDRAWN if n % 7 == 6 else RegistrationStatus.REGISTERED,
            organization=OrganizationFactory(
                name_zh=f"采购商{n:03d}",
                name_en=f"Buyer {n:03d}",
                kind=KINDS[n % len(KINDS)],
                annual_imports_usd=Decimal(20_000_000 if n % 3 == 0 else 1_000_000),
            ),
        )
        if buyer.status == RegistrationStatus.WITHDRAWN:
            buyer = RegistrationFactory(delegation=where)
        exhibitors = [
            ExhibitorFactory(
                edition=delegation.edition,
                organization=OrganizationFactory(
                    name_zh=f"展商{n:03d}{letter}",
                    name_en=f"Exhibitor {n:03d}{letter}",
                    kind=OrganizationKind.FOREIGN,
                    country=COUNTRIES[(n + index) % len(COUNTRIES)],
                ),
            )
            for index, letter in enumerate("ab"[: 1 + n % 2])
        ]
        agreement_in(
            where,
            reference=f"{delegation.slug}-{delegation.edition.year}-{n:04d}",
            registration=buyer,
            exhibitors=exhibitors,
            sector=sectors[n % 3],
            amount=Decimal(1_000_000 + n * 1000),
            is_public=n % 4 != 0,
            status=AgreementStatus.CANCELLED if n % 9 == 8 else AgreementStatus.SIGNED,
            illustrative=False,
        )
        VisitFactory(delegation=where, ciftis_interest=n % 2 == 0)
        InvestmentIntentionFactory(delegation=where)
        CiftisPledgeFactory(
            source_delegation=where,
            organization=OrganizationFactory(
                name_zh=f"承诺机构{n:03d}",
                name_en=f"Pledging body {n:03d}",
                kind=OrganizationKind.FOREIGN,
                country=COUNTRIES[n % len(COUNTRIES)],
            ),
            status={5: PledgeStatus.WITHDRAWN, 2: PledgeStatus.ATTENDED}.get(
                n % 6, PledgeStatus.PLEDGED
            ),
        )
