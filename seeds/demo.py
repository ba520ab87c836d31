"""The demo population: a deterministic, illustrative set of records around the story's
facts, built so that the statistics computed from it give every figure of the story.

Nothing here is real except what arrives through `Story` (read from story.toml by
`seeds.loader.read_story`). Every generated row is `illustrative`; generated
organizations are called so in their names (示例企业0001有限公司 / Illustrative Co. 0001
Ltd.); generated credit codes follow GB 32100-2015 but carry the made-up organization
code prefix `DM`; exchange rates say in their source that they are illustrative.

The generator is plain Python: one `random.Random` with a fixed seed, integer weights
and `Decimal` arithmetic, no sets iterated and no floating-point library functions, so
that it gives the same rows on every machine and every run.
"""

from __future__ import annotations

import datetime
import hashlib
import random
from collections.abc import Iterator, Sequence
from dataclasses import astuple, dataclass, fields, replace
from decimal import Decimal
from typing import Any, NamedTuple

from delegations.validators import uscc_check_character

SEED = 20191105

CIIE_2018 = "ciie-2018"
CIIE_2019 = "ciie-2019"
CIFTIS_2020 = "ciftis-2020"

# Organization kinds (delegations.models.OrganizationKind), agreement kinds and statuses,
# as stored.
GOVERNMENT = "government"
PUBLIC_INSTITUTION = "public_institution"
INDUSTRY_ASSOCIATION = "industry_association"
STATE_OWNED = "state_owned"
PRIVATE = "private"
HK_MACAO_TAIWAN = "hk_macao_taiwan"
FOREIGN_FUNDED = "foreign_funded"
FOREIGN = "foreign"
ENTERPRISES = (STATE_OWNED, PRIVATE, HK_MACAO_TAIWAN, FOREIGN_FUNDED)
# Those in the delegation that do not come to buy: the share of purchasers is the rest.
NOT_PURCHASING = (GOVERNMENT, PUBLIC_INSTITUTION, INDUSTRY_ASSOCIATION)

PURCHASE = "purchase"
STRATEGIC_COOPERATION = "strategic_cooperation"
SIGNED = "signed"
EXECUTED = "executed"
CANCELLED = "cancelled"
REGISTERED = "registered"
ATTENDED = "attended"
WITHDRAWN = "withdrawn"
INTENTION_STAGES = {"expressed": 16, "negotiating": 12, "signed": 7, "landed": 4, "dropped": 3}

USD = "USD"
LARGE_IMPORTER_USD = Decimal(10_000_000)
MILLION = 1_000_000

# ---------------------------------------------------------------------------------------
# Rows: what the loader writes, one frozen dataclass per model. Rows refer to each other
# by natural key, never by database id.
# ---------------------------------------------------------------------------------------

OrgKey = tuple[str, ...]
DelegationKey = tuple[str, str]  # (edition slug, delegation slug)


def organization_key(name_zh: str, country: str, credit_code: str | None) -> OrgKey:
    """How an organization is matched: by credit code, else by name and country."""
    return ("code", credit_code) if credit_code else ("name", name_zh, country)


def delegation_key(text: str) -> DelegationKey:
    """`ciie-2019/beijing` → ("ciie-2019", "beijing")."""
    edition, _, slug = text.partition("/")
    return edition, slug


@dataclass(frozen=True)
class DelegationRow:
    edition: str
    slug: str
    name_zh: str
    name_en: str
    organizer_zh: str = ""
    organizer_en: str = ""
    parent: str | None = None  # slug of the delegation it belongs to, same edition
    illustrative: bool = True

    @property
    def key(self) -> DelegationKey:
        return self.edition, self.slug


@dataclass(frozen=True)
class OrganizationRow:
    name_zh: str
    name_en: str
    kind: str
    country: str = "CN"
    credit_code: str | None = None
    industry: str = ""
    annual_imports_usd: Decimal | None = None
    illustrative: bool = True

    @property
    def key(self) -> OrgKey:
        return organization_key(self.name_zh, self.country, self.credit_code)


@dataclass(frozen=True)
class RegistrationRow:
    delegation: DelegationKey
    organization: OrgKey
    participants: int
    is_purchaser: bool
    status: str
    registered_on: datetime.date | None
    illustrative: bool = True


@dataclass(frozen=True)
class ExhibitorRow:
    edition: str
    organization: OrgKey
    area: str  # sector code of the exhibition area
    booth: str = ""
    illustrative: bool = True


@dataclass(frozen=True)
class ExchangeRateRow:
    currency: str
    valid_on: datetime.date
    usd_per_unit: Decimal
    source: str


@dataclass(frozen=True)
class AgreementRow:
    reference: str
    delegation: DelegationKey
    buyer: OrgKey
    exhibitors: tuple[OrgKey, ...]
    kind: str
    sector: str | None
    amount: Decimal
    currency: str
    signed_on: datetime.date | None
    status: str
    is_public: bool
    illustrative: bool = True


@dataclass(frozen=True)
class VisitRow:
    delegation: DelegationKey
    organization: OrgKey
    visited_on: datetime.date
    investment_intention: bool = False
    ciftis_interest: bool = False
    illustrative: bool = True


@dataclass(frozen=True)
class IntentionRow:
    delegation: DelegationKey
    organization: OrgKey
    sector: str | None
    amount: Decimal | None
    currency: str
    stage: str
    illustrative: bool = True


@dataclass(frozen=True)
class PledgeRow:
    target_edition: str
    organization: OrgKey
    source_delegation: DelegationKey | None
    status: str
    pledged_on: datetime.date | None = None
    illustrative: bool = False


@dataclass(frozen=True)
class StoryAgreement:
    """An agreement the story states, with the countries of the illustrative exhibitors
    that stand in for counterparts it does not name."""

    row: AgreementRow
    illustrative_exhibitor_countries: tuple[str, ...]


@dataclass(frozen=True)
class Story:
    """The story's facts as read from story.toml: the only real part of the seeds."""

    text: str
    figures: dict[str, Any]
    delegations: tuple[DelegationRow, ...]
    organizations: tuple[OrganizationRow, ...]
    members: tuple[tuple[DelegationKey, OrgKey], ...]  # who is registered where
    exhibitors: tuple[ExhibitorRow, ...]
    agreements: tuple[StoryAgreement, ...]
    pledges: tuple[PledgeRow, ...]
    quotes: tuple[str, ...]


@dataclass(frozen=True)
class Population:
    """Every row the seeds hold, story and demo, in the order they are written."""

    exchange_rates: tuple[ExchangeRateRow, ...]
    delegations: tuple[DelegationRow, ...]
    organizations: tuple[OrganizationRow, ...]
    registrations: tuple[RegistrationRow, ...]
    exhibitors: tuple[ExhibitorRow, ...]
    agreements: tuple[AgreementRow, ...]
    visits: tuple[VisitRow, ...]
    intentions: tuple[IntentionRow, ...]
    pledges: tuple[PledgeRow, ...]

    def rows(self) -> Iterator[Any]:
        for part in fields(self):
            yield from getattr(self, part.name)

    def digest(self) -> str:
        """A fingerprint of every value of every row: equal populations, equal digests."""
        sha = hashlib.sha256()
        for row in self.rows():
            sha.update(f"{type(row).__name__}{astuple(row)!r}\n".encode())
        return sha.hexdigest()


# ---------------------------------------------------------------------------------------
# What the population is made of, beyond the story's figures
# ---------------------------------------------------------------------------------------

# Staff keep the rates: these are plausible, dated just before each expo, and say they
# are illustrative. Four decimals, so that an amount in round tens of thousands of a
# currency converts to whole US dollars.
RATE_SOURCE = "Illustrative rate of the demo population, not an official fixing"
EXCHANGE_RATES = {
    CIIE_2018: (
        datetime.date(2018, 11, 1),
        {"CNY": Decimal("0.1437"), "EUR": Decimal("1.1370"), "JPY": Decimal("0.0089")},
    ),
    CIIE_2019: (
        datetime.date(2019, 11, 1),
        {"CNY": Decimal("0.1422"), "EUR": Decimal("1.1150"), "JPY": Decimal("0.0092")},
    ),
}
EXPO_DAYS = {
    CIIE_2018: [datetime.date(2018, 11, 5) + datetime.timedelta(days=n) for n in range(6)],
    CIIE_2019: [datetime.date(2019, 11, 5) + datetime.timedelta(days=n) for n in range(6)],
}
# Deals are signed mostly at the signing ceremonies of the first days.
SIGNING_DAY_WEIGHTS = [40, 20, 15, 10, 10, 5]

# Active registrations of the Beijing delegation at CIIE 2019 by kind (the story's
# organizations included): the kinds the story lists, in plausible proportions, with the
# non-purchasing kinds making up exactly the 8.5% that are not purchasers.
KIND_QUOTAS_2019 = {
    GOVERNMENT: 61,
    PUBLIC_INSTITUTION: 145,
    INDUSTRY_ASSOCIATION: 58,
    STATE_OWNED: 486,
    PRIVATE: 1983,
    HK_MACAO_TAIWAN: 74,
    FOREIGN_FUNDED: 300,
}
# Attended registrations at CIIE 2018 by kind; they add up to the derived 2,219.
KIND_QUOTAS_2018 = {
    GOVERNMENT: 45,
    PUBLIC_INSTITUTION: 104,
    INDUSTRY_ASSOCIATION: 42,
    STATE_OWNED: 350,
    PRIVATE: 1412,
    HK_MACAO_TAIWAN: 52,
    FOREIGN_FUNDED: 214,
}
RETURNING_SHARE_2018 = Decimal("0.8")  # of 2018's organizations, those that came back in 2019
LARGE_IMPORTERS_2019 = 112
AT_THE_THRESHOLD_2019 = 3  # import exactly US$10 million: not "over" it
REGISTERED_ONLY_2019 = 126  # never marked as attended
WITHDRAWN_2019 = 23
WITHDRAWN_LARGE_IMPORTERS_2019 = 2
NO_SHOWS_2018 = 64  # registered for CIIE 2018, never attended
WITHDRAWN_2018 = 31

NAMES = {
    GOVERNMENT: ("示例政府机构{n:04d}", "Illustrative Government Office {n:04d}"),
    PUBLIC_INSTITUTION: ("示例事业单位{n:04d}", "Illustrative Public Institution {n:04d}"),
    INDUSTRY_ASSOCIATION: ("示例行业协会{n:04d}", "Illustrative Industry Association {n:04d}"),
    STATE_OWNED: ("示例国有企业{n:04d}有限公司", "Illustrative State-owned Co. {n:04d} Ltd."),
    PRIVATE: ("示例企业{n:04d}有限公司", "Illustrative Co. {n:04d} Ltd."),
    HK_MACAO_TAIWAN: (
        "示例港澳台资企业{n:04d}有限公司",
        "Illustrative HK, Macao or Taiwan-invested Co. {n:04d} Ltd.",
    ),
    FOREIGN_FUNDED: (
        "示例外资企业{n:04d}有限公司",
        "Illustrative Foreign-invested Co. {n:04d} Ltd.",
    ),
}
EXHIBITOR_NAME = ("示例展商{n:04d}", "Illustrative Exhibitor {n:04d}")
# The first two characters of a credit code: the registering authority and the kind of
# body (11 a government organ, 12 a public institution, 51 a social organization, 91 an
# enterprise).
CODE_PREFIX = {GOVERNMENT: "11", PUBLIC_INSTITUTION: "12", INDUSTRY_ASSOCIATION: "51"}
ENTERPRISE_PREFIX = "91"
# Administrative divisions (Beijing's districts, Shanghai's) for characters 3 to 8.
BEIJING_DIVISIONS = ["110101", "110102", "110105", "110106", "110108", "110112", "110115"]
SHANGHAI_DIVISIONS = ["310101", "310104", "310106", "310115"]
# No real organization code starts with DM: it marks the code as made up.
DEMO_CODE_PREFIX = "DM"
ORG_CODE_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]

INDUSTRIES = [
    "零售",
    "批发贸易",
    "医疗器械",
    "医药",
    "食品饮料",
    "餐饮",
    "汽车",
    "电子信息",
    "互联网",
    "物流",
    "文化旅游",
    "金融服务",
    "能源",
    "装备制造",
    "建筑",
]
PUBLIC_INSTITUTION_INDUSTRIES = ["医疗卫生", "教育", "科研"]

# Exhibition areas (sector codes that ship in deals/migrations/0002) with their weight
# among exhibitors, and the industry an exhibitor of the area is given. Medical
# equipment weighs most: the story saw "robust cooperation and purchases" there.
AREAS = {
    "medical-healthcare": (28, "医疗器械及医药保健"),
    "food-agriculture": (20, "食品及农产品"),
    "consumer-goods": (20, "服装服饰及日用消费品"),
    "high-end-equipment": (12, "智能及高端装备"),
    "consumer-electronics": (10, "消费电子及家电"),
    "automobile": (6, "汽车"),
    "trade-in-services": (6, "服务贸易"),
}
SECTORS_BEYOND_AREAS = ["cross-border-ecommerce", "quality-everyday"]

# The 32 countries and regions of the exhibitors that signed with Beijing at CIIE 2019,
# with their weight; and those of exhibitors that did not.
SIGNING_COUNTRIES = {
    "GB": 6, "JP": 8, "KR": 5, "HK": 3, "US": 8, "DE": 8, "FR": 7, "IT": 6,
    "ES": 3, "NL": 3, "BE": 2, "CH": 3, "AT": 2, "SE": 2, "DK": 2, "NO": 2,
    "IE": 2, "PL": 2, "CZ": 2, "AU": 5, "NZ": 4, "CA": 3, "CL": 3, "BR": 2,
    "TH": 3, "MY": 2, "SG": 2, "VN": 2, "IL": 2, "ZA": 2, "RU": 3, "AR": 2,
}  # fmt: skip
OTHER_COUNTRIES = {
    "PE": 2, "MX": 2, "TR": 2, "EG": 1, "KZ": 2, "PK": 2, "IN": 3, "ID": 2, "PH": 1,
    "AE": 2, "SA": 1, "GR": 2, "PT": 2, "HU": 2, "RS": 1, "GE": 1, "LK": 1, "MO": 1,
    "TW": 2, "FI": 2, "CO": 1, "UY": 1, "KE": 1, "MN": 1, "UZ": 1,
}  # fmt: skip
REGIONS_OF_CHINA = ("HK", "MO", "TW")

UNSIGNED_EXHIBITORS_2019 = 300  # at CIIE 2019, no agreement with Beijing
EXHIBITORS_2018_RETURNING = 60  # CIIE 2019 exhibitors that also exhibited in 2018
EXHIBITORS_2018_NEW = 30

# Beijing at CIIE 2018: its agreements, against which 2019's +33% is computed.
AGREEMENTS_2018 = 150
BUYERS_2018 = 70
EXHIBITORS_PARTY_2018 = 80
INTENDED_PURCHASE_2018_USD = Decimal(2_000_000_000)
INTENDED_PURCHASE_2019_USD = Decimal(2_660_000_000)  # +33%
# Non-dollar agreements among the generated ones (the rest are in US$).
CURRENCY_COUNTS_2019 = {"CNY": 37, "EUR": 16, "JPY": 8}
CURRENCY_COUNTS_2018 = {"CNY": 25, "EUR": 10, "JPY": 5}
BUYERS_2019_LARGE_IMPORTERS = 40


class Sub(NamedTuple):
    """A sub-delegation (交易分团) of Beijing, with its weight among the delegation's
    registrations and among the sub-delegations' visits."""

    slug: str
    name_zh: str
    name_en: str
    registration_weight: int
    visit_weight: int = 0


# Real districts and an industry group; the sub-delegations themselves are illustrative.
SUBS_2019 = [
    Sub("beijing-chaoyang", "朝阳区交易分团", "Chaoyang District sub-delegation", 12, 50),
    Sub("beijing-haidian", "海淀区交易分团", "Haidian District sub-delegation", 12, 45),
    Sub("beijing-dongcheng", "东城区交易分团", "Dongcheng District sub-delegation", 5, 25),
    Sub("beijing-xicheng", "西城区交易分团", "Xicheng District sub-delegation", 5, 25),
    Sub(
        "beijing-etdz",
        "北京经济技术开发区交易分团",
        "Beijing Economic-Technological Development Area sub-delegation",
        6,
        30,
    ),
    Sub("beijing-health", "医药健康交易分团", "Medicine and healthcare sub-delegation", 5, 25),
]
SUBS_2018 = [
    Sub("beijing-chaoyang", "朝阳区交易分团", "Chaoyang District sub-delegation", 13),
    Sub("beijing-haidian", "海淀区交易分团", "Haidian District sub-delegation", 12),
]
# The bureau's own share of the registrations, against the sub-delegations' weights.
BUREAU_REGISTRATION_WEIGHT = {CIIE_2019: 55, CIIE_2018: 75}

# Visits at CIIE 2019: about 120 companies by the bureau, about 200 by sub-delegations.
VISITED_BY_BUREAU = 120
VISITED_BY_SUBS = 200
REVISITED = 15  # visited a second time on another day
# Participants per registration: weights of 1, 2, 3, ... people.
PARTICIPANT_WEIGHTS_2019 = [18, 20, 17, 13, 10, 7, 5, 4, 2, 2, 1, 1]
PARTICIPANT_WEIGHTS_2018 = [28, 26, 18, 11, 7, 4, 3, 2, 1]

SHANGHAI = DelegationRow(
    edition=CIIE_2019,
    slug="shanghai",
    name_zh="上海",
    name_en="Shanghai",
    organizer_zh="上海市商务委员会",
    organizer_en="Shanghai Municipal Commission of Commerce",
)
SHANGHAI_NEW_ORGANIZATIONS = 36
SHANGHAI_SHARED_ORGANIZATIONS = 4  # also in Beijing's delegation
SHANGHAI_AGREEMENTS = 10


def build_population(story: Story) -> Population:
    """The story's records and the demo population around them, the same every time."""
    return _Generator(story).build()


# ---------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------


class _Generator:
    def __init__(self, story: Story) -> None:
        self.story = story
        self.figures = story.figures
        # Not for secrets: a fixed seed makes the same illustrative population each time.
        self.rng = random.Random(SEED)  # nosec B311
        self.organization_serial = 0
        self.exhibitor_serial = 0
        self.booth_serial = 0
        self.delegations: list[DelegationRow] = list(story.delegations)
        self.organizations: list[OrganizationRow] = list(story.organizations)
        self.by_key = {row.key: row for row in story.organizations}
        self.registrations: list[RegistrationRow] = []
        self.exhibitors: list[ExhibitorRow] = []
        self.areas: dict[tuple[str, OrgKey], str] = {}
        self.agreements: list[AgreementRow] = []
        self.visits: list[VisitRow] = []
        self.intentions: list[IntentionRow] = []

    def build(self) -> Population:
        beijing_2019 = self._beijing_delegation(CIIE_2019, SUBS_2019)
        beijing_2018 = self._beijing_delegation(CIIE_2018, SUBS_2018)
        returning = self._registrations_2019(beijing_2019)
        self._registrations_2018(beijing_2018, returning)
        signed, unsigned, cancelled_only = self._exhibitors_2019()
        self._agreements_2019(beijing_2019, signed, cancelled_only)
        self._agreements_2018(beijing_2018, signed + unsigned)
        self._visits_2019(beijing_2019)
        self._shanghai(signed, unsigned)
        rates = [
            ExchangeRateRow(currency, valid_on, rate, RATE_SOURCE)
            for valid_on, by_currency in EXCHANGE_RATES.values()
            for currency, rate in by_currency.items()
        ]
        population = Population(
            exchange_rates=tuple(rates),
            delegations=tuple(self.delegations),
            organizations=tuple(self.organizations),
            registrations=tuple(self.registrations),
            exhibitors=tuple(self.exhibitors),
            agreements=tuple(self.agreements),
            visits=tuple(self.visits),
            intentions=tuple(self.intentions),
            pledges=self.story.pledges,
        )
        _check_unique(population)
        return population

    # -- delegations -------------------------------------------------------------------

    def _beijing_delegation(self, edition: str, subs: list[Sub]) -> list[tuple[DelegationKey, int]]:
        """Adds Beijing's sub-delegations at `edition`. Returns the delegation (first)
        and its sub-delegations, each with its weight among the registrations."""
        top = (edition, "beijing")
        if top not in {row.key for row in self.delegations}:
            raise ValueError(f"The story has no Beijing delegation at {edition}.")
        for sub in subs:
            self.delegations.append(
                DelegationRow(edition, sub.slug, sub.name_zh, sub.name_en, parent="beijing")
            )
        return [(top, BUREAU_REGISTRATION_WEIGHT[edition])] + [
            ((edition, sub.slug), sub.registration_weight) for sub in subs
        ]

    # -- organizations -----------------------------------------------------------------

    def _chinese_organization(
        self, kind: str, *, imports: Decimal | None, divisions: list[str] = BEIJING_DIVISIONS
    ) -> OrganizationRow:
        self.organization_serial += 1
        n = self.organization_serial
        name_zh, name_en = (pattern.format(n=n) for pattern in NAMES[kind])
        prefix = CODE_PREFIX.get(kind, ENTERPRISE_PREFIX)
        division = divisions[n % len(divisions)]
        if kind == PUBLIC_INSTITUTION:
            industry = PUBLIC_INSTITUTION_INDUSTRIES[n % len(PUBLIC_INSTITUTION_INDUSTRIES)]
        elif kind in ENTERPRISES:
            industry = INDUSTRIES[n % len(INDUSTRIES)]
        else:
            industry = ""
        row = OrganizationRow(
            name_zh=name_zh,
            name_en=name_en,
            kind=kind,
            credit_code=demo_credit_code(prefix + division, n),
            industry=industry,
            annual_imports_usd=imports,
        )
        return self._add_organization(row)

    def _add_organization(self, row: OrganizationRow) -> OrganizationRow:
        self.organizations.append(row)
        self.by_key[row.key] = row
        return row

    def _imports(self, kind: str, *, large: bool = False) -> Decimal | None:
        """Yearly imports: over US$10 million for a large importer; for other
        enterprises below it half of the time, unknown otherwise."""
        if large:
            return Decimal(self.rng.randrange(11, 600) * MILLION + self.rng.randrange(100) * 10_000)
        if kind in ENTERPRISES and self.rng.randrange(2):
            return Decimal(self.rng.randrange(5, 1000) * 10_000)
        return None

    # -- registrations -----------------------------------------------------------------

    def _registrations_2019(
        self, delegations: list[tuple[DelegationKey, int]]
    ) -> dict[str, list[OrganizationRow]]:
        """Beijing at CIIE 2019: the story's 3,107 organizations and 10,828 participants,
        91.5% purchasers, over a hundred large importers; and some withdrawn ones.
        Returns the generated organizations by kind, the pool 2018 draws on."""
        total = self.figures["registered_organizations"]
        purchasers = round(Decimal(str(self.figures["purchaser_share"])) * total)
        quotas = dict(KIND_QUOTAS_2019)
        if sum(quotas.values()) != total:
            raise ValueError("KIND_QUOTAS_2019 must add up to the registered organizations.")
        if sum(quotas[kind] for kind in NOT_PURCHASING) != total - purchasers:
            raise ValueError("The non-purchasing kinds must add up to the non-purchasers.")

        top = delegations[0][0]
        members = [self.by_key[org] for where, org in self.story.members if where == top]
        for org in members:
            quotas[org.kind] -= 1
        kinds = [kind for kind, count in quotas.items() for _ in range(count)]
        self.rng.shuffle(kinds)
        enterprise_slots = [i for i, kind in enumerate(kinds) if kind in ENTERPRISES]
        large = self.rng.sample(enterprise_slots, LARGE_IMPORTERS_2019)
        large_set = dict.fromkeys(large)
        others = [i for i in enterprise_slots if i not in large_set]
        at_threshold = dict.fromkeys(self.rng.sample(others, AT_THE_THRESHOLD_2019))
        generated = []
        for i, kind in enumerate(kinds):
            if i in at_threshold:
                imports = LARGE_IMPORTER_USD
            else:
                imports = self._imports(kind, large=i in large_set)
            generated.append(self._chinese_organization(kind, imports=imports))

        participants = _spread(
            self.rng, total, self.figures["participants"], PARTICIPANT_WEIGHTS_2019
        )
        registered_only = dict.fromkeys(self.rng.sample(range(total), REGISTERED_ONLY_2019))
        keys, weights = zip(*delegations, strict=True)
        for i, org in enumerate(members + generated):
            where = top if i < len(members) else self.rng.choices(keys, weights)[0]
            self.registrations.append(
                RegistrationRow(
                    delegation=where,
                    organization=org.key,
                    participants=participants[i],
                    is_purchaser=org.kind not in NOT_PURCHASING,
                    status=REGISTERED if i in registered_only else ATTENDED,
                    registered_on=self._day(datetime.date(2019, 5, 6), 170),
                )
            )

        # Withdrawn: recorded, not counted (two of them import over US$10 million).
        for i in range(WITHDRAWN_2019):
            kind = self.rng.choice(ENTERPRISES)
            org = self._chinese_organization(
                kind, imports=self._imports(kind, large=i < WITHDRAWN_LARGE_IMPORTERS_2019)
            )
            self.registrations.append(
                RegistrationRow(
                    delegation=self.rng.choices(keys, weights)[0],
                    organization=org.key,
                    participants=self.rng.randrange(1, 6),
                    is_purchaser=True,
                    status=WITHDRAWN,
                    registered_on=self._day(datetime.date(2019, 5, 6), 120),
                )
            )
        by_kind: dict[str, list[OrganizationRow]] = {kind: [] for kind in KIND_QUOTAS_2019}
        for org in generated:
            by_kind[org.kind].append(org)
        return by_kind

    def _registrations_2018(
        self,
        delegations: list[tuple[DelegationKey, int]],
        returning: dict[str, list[OrganizationRow]],
    ) -> None:
        """Beijing at CIIE 2018: 2,219 organizations with 5,982 participants attended
        (the story's basis of +40% and +81%); some never came, some withdrew."""
        attended = self.figures["previous_attended_organizations_derived"]
        people = self.figures["previous_attended_participants_derived"]
        if sum(KIND_QUOTAS_2018.values()) != attended:
            raise ValueError("KIND_QUOTAS_2018 must add up to last year's attendance.")
        organizations = []
        for kind, quota in KIND_QUOTAS_2018.items():
            back = int((RETURNING_SHARE_2018 * quota).to_integral_value())
            organizations += self.rng.sample(returning[kind], back)
            for _ in range(quota - back):
                large = self.rng.randrange(20) == 0 and kind in ENTERPRISES
                organizations.append(
                    self._chinese_organization(kind, imports=self._imports(kind, large=large))
                )
        self.rng.shuffle(organizations)
        participants = _spread(self.rng, attended, people, PARTICIPANT_WEIGHTS_2018)
        keys, weights = zip(*delegations, strict=True)
        statuses = [ATTENDED] * attended + [REGISTERED] * NO_SHOWS_2018
        statuses += [WITHDRAWN] * WITHDRAWN_2018
        for _ in range(NO_SHOWS_2018 + WITHDRAWN_2018):
            kind = self.rng.choice(ENTERPRISES)
            organizations.append(self._chinese_organization(kind, imports=self._imports(kind)))
            participants.append(self.rng.randrange(1, 5))
        for org, count, status in zip(organizations, participants, statuses, strict=True):
            self.registrations.append(
                RegistrationRow(
                    delegation=self.rng.choices(keys, weights)[0],
                    organization=org.key,
                    participants=count,
                    is_purchaser=org.kind not in NOT_PURCHASING,
                    status=status,
                    registered_on=self._day(datetime.date(2018, 5, 7), 170),
                )
            )

    # -- exhibitors --------------------------------------------------------------------

    def _exhibitor(self, edition: str, country: str) -> OrgKey:
        """A new foreign (or Hong Kong, Macao, Taiwan) organization exhibiting at
        `edition` in an area that fits its industry."""
        self.exhibitor_serial += 1
        n = self.exhibitor_serial
        area = self._area()
        name_zh, name_en = (pattern.format(n=n) for pattern in EXHIBITOR_NAME)
        row = OrganizationRow(
            name_zh=name_zh,
            name_en=name_en,
            kind=HK_MACAO_TAIWAN if country in REGIONS_OF_CHINA else FOREIGN,
            country=country,
            industry=AREAS[area][1],
        )
        self._add_organization(row)
        self._exhibit(edition, row.key, area)
        return row.key

    def _area(self) -> str:
        codes = list(AREAS)
        return self.rng.choices(codes, [AREAS[code][0] for code in codes])[0]

    def _exhibit(self, edition: str, org: OrgKey, area: str) -> None:
        self.booth_serial += 1
        hall = list(AREAS).index(area) + 1
        self.exhibitors.append(
            ExhibitorRow(edition, org, area, booth=f"{hall}.1-{self.booth_serial:04d}")
        )
        self.areas[(edition, org)] = area

    def _exhibitors_2019(self) -> tuple[list[OrgKey], list[OrgKey], OrgKey]:
        """Exhibitors at CIIE 2019: those that sign with Beijing (the story's 108 from 32
        countries and regions, Samsung China and Secoo's brands among them), one whose
        only agreement is cancelled, and those that sign nothing with Beijing."""
        for row in self.story.exhibitors:
            self._exhibit(row.edition, row.organization, row.area)
        story_parties = [
            org
            for agreement in self.story.agreements
            if agreement.row.delegation[0] == CIIE_2019
            for org in agreement.row.exhibitors
        ]
        brand_countries = [
            country
            for agreement in self.story.agreements
            for country in agreement.illustrative_exhibitor_countries
        ]
        covered = brand_countries + [self.by_key[org].country for org in story_parties]
        countries = brand_countries + [c for c in SIGNING_COUNTRIES if c not in covered]
        wanted = self.figures["exhibitors"] - len(story_parties)
        codes = list(SIGNING_COUNTRIES)
        while len(countries) < wanted:
            countries.append(self.rng.choices(codes, list(SIGNING_COUNTRIES.values()))[0])
        signed = list(story_parties)
        for country in countries:
            signed.append(self._exhibitor(CIIE_2019, country))
        distinct = dict.fromkeys(self.by_key[org].country for org in signed)
        if len(distinct) != self.figures["countries_regions"]:
            raise ValueError("The signing exhibitors must come from the story's 32 places.")

        cancelled_only = self._exhibitor(CIIE_2019, "PE")
        everywhere = {**SIGNING_COUNTRIES, **OTHER_COUNTRIES}
        unsigned = []
        for _ in range(UNSIGNED_EXHIBITORS_2019):
            country = self.rng.choices(list(everywhere), list(everywhere.values()))[0]
            unsigned.append(self._exhibitor(CIIE_2019, country))
        return signed, unsigned, cancelled_only

    # -- agreements --------------------------------------------------------------------

    def _agreements_2019(
        self,
        delegations: list[tuple[DelegationKey, int]],
        signed: list[OrgKey],
        cancelled_only: OrgKey,
    ) -> None:
        """207 counted agreements by 88 buyers with the 108 exhibitors, US$2.66 billion in
        all (+33% on 2018); and three cancelled ones that count nowhere."""
        top = delegations[0][0]
        story = [a.row for a in self.story.agreements if a.row.delegation == top]
        if any(row.currency != USD for row in story):
            raise ValueError("The story's agreements are in US$: the total below assumes so.")
        brands = iter(signed[len([o for a in story for o in a.exhibitors]) :])
        for agreement in self.story.agreements:
            row = agreement.row
            parties = row.exhibitors + tuple(
                next(brands) for _ in agreement.illustrative_exhibitor_countries
            )
            self.agreements.append(replace(row, exhibitors=parties))
        story_buyers = dict.fromkeys(row.buyer for row in story)

        in_tree = {key for key, _weight in delegations}
        candidates = [
            r
            for r in self.registrations
            if r.delegation in in_tree
            and r.status != WITHDRAWN
            and r.is_purchaser
            and self.by_key[r.organization].illustrative
            and self.by_key[r.organization].kind in ENTERPRISES
        ]
        large = [r for r in candidates if _is_large(self.by_key[r.organization])]
        small = [r for r in candidates if not _is_large(self.by_key[r.organization])]
        buyers = self.rng.sample(large, BUYERS_2019_LARGE_IMPORTERS)
        wanted = self.figures["companies_signed"] - len(story_buyers)
        buyers += self.rng.sample(small, wanted - len(buyers))
        counted = self._agreement_set(
            prefix="CIIE2019-BJ",
            first_number=len(story) + 1,
            edition=CIIE_2019,
            buyers=buyers,
            count=self.figures["agreements"] - len(story),
            parties=signed,
            already_parties=[o for row in self.agreements for o in row.exhibitors],
            total_usd=INTENDED_PURCHASE_2019_USD - sum(row.amount for row in story),
            currencies=CURRENCY_COUNTS_2019,
            executed_share=15,
        )
        self.agreements += counted

        # Cancelled: one by a buyer who signed nothing else with an exhibitor who signed
        # nothing else, two by buyers and with exhibitors that count anyway.
        chosen = dict.fromkeys(r.organization for r in buyers)
        loner = next(r for r in small if r.organization not in chosen)
        number = len(story) + len(counted)
        cancelled = [
            (loner, (cancelled_only,), Decimal(3_000_000), USD),
            (buyers[0], (signed[-1],), Decimal(20_000_000), "CNY"),
            (buyers[1], (signed[-2],), Decimal(5_500_000), USD),
        ]
        for offset, (buyer, parties, amount, currency) in enumerate(cancelled, start=1):
            self.agreements.append(
                AgreementRow(
                    reference=f"CIIE2019-BJ-{number + offset:04d}",
                    delegation=buyer.delegation,
                    buyer=buyer.organization,
                    exhibitors=parties,
                    kind=PURCHASE,
                    sector=self.areas[(CIIE_2019, parties[0])],
                    amount=amount,
                    currency=currency,
                    signed_on=EXPO_DAYS[CIIE_2019][offset],
                    status=CANCELLED,
                    is_public=False,
                )
            )

    def _agreements_2018(
        self, delegations: list[tuple[DelegationKey, int]], exhibitors_2019: list[OrgKey]
    ) -> None:
        """Beijing at CIIE 2018: US$2 billion of intended purchases, the basis of 2019's
        change, between some of 2018's exhibitors (many of them back in 2019) and buyers
        that attended."""
        generated = [org for org in exhibitors_2019 if self.by_key[org].illustrative]
        pool = self.rng.sample(generated, EXHIBITORS_2018_RETURNING)
        for org in pool:
            self._exhibit(CIIE_2018, org, self.areas[(CIIE_2019, org)])
        countries, weights = list(SIGNING_COUNTRIES), list(SIGNING_COUNTRIES.values())
        for _ in range(EXHIBITORS_2018_NEW):
            pool.append(self._exhibitor(CIIE_2018, self.rng.choices(countries, weights)[0]))
        in_tree = {key for key, _weight in delegations}
        candidates = [
            r
            for r in self.registrations
            if r.delegation in in_tree and r.status == ATTENDED and r.is_purchaser
        ]
        buyers = self.rng.sample(candidates, BUYERS_2018)
        self.agreements += self._agreement_set(
            prefix="CIIE2018-BJ",
            first_number=1,
            edition=CIIE_2018,
            buyers=buyers,
            count=AGREEMENTS_2018,
            parties=self.rng.sample(pool, EXHIBITORS_PARTY_2018),
            already_parties=[],
            total_usd=INTENDED_PURCHASE_2018_USD,
            currencies=CURRENCY_COUNTS_2018,
            executed_share=70,
        )
        self.agreements.append(
            AgreementRow(
                reference=f"CIIE2018-BJ-{AGREEMENTS_2018 + 1:04d}",
                delegation=buyers[2].delegation,
                buyer=buyers[2].organization,
                exhibitors=(pool[0],),
                kind=PURCHASE,
                sector=self.areas[(CIIE_2018, pool[0])],
                amount=Decimal(8_000_000),
                currency=USD,
                signed_on=EXPO_DAYS[CIIE_2018][1],
                status=CANCELLED,
                is_public=False,
            )
        )

    def _agreement_set(
        self,
        *,
        prefix: str,
        first_number: int,
        edition: str,
        buyers: list[RegistrationRow],
        count: int,
        parties: list[OrgKey],
        already_parties: list[OrgKey],
        total_usd: Decimal,
        currencies: dict[str, int],
        executed_share: int,
    ) -> list[AgreementRow]:
        """`count` counted agreements: every buyer signs at least one, every exhibitor of
        `parties` is party to at least one, and their US$ equivalents add up to exactly
        `total_usd` at the edition's rates."""
        rng = self.rng
        per_buyer = [1] * len(buyers)
        appetite = [rng.randint(1, 6) ** 2 for _ in buyers]
        for _ in range(count - len(buyers)):
            per_buyer[rng.choices(range(len(buyers)), appetite)[0]] += 1
        signers = [buyer for buyer, n in zip(buyers, per_buyer, strict=True) for _ in range(n)]
        rng.shuffle(signers)

        already = dict.fromkeys(already_parties)
        uncovered = [org for org in parties if org not in already]
        rng.shuffle(uncovered)
        if len(uncovered) > count:
            raise ValueError("More exhibitors to cover than agreements.")
        days = sorted(rng.choices(EXPO_DAYS[edition], SIGNING_DAY_WEIGHTS, k=count))
        in_currency = [currency for currency, n in currencies.items() for _ in range(n)]
        in_currency += [USD] * (count - len(in_currency))
        rng.shuffle(in_currency)
        sector_codes = list(AREAS) + SECTORS_BEYOND_AREAS

        drafts = []
        for i, buyer in enumerate(signers):
            first = uncovered[i] if i < len(uncovered) else rng.choice(parties)
            extra = 2 if rng.randrange(100) < 4 else 1 if rng.randrange(100) < 15 else 0
            others = rng.sample([org for org in parties if org != first], extra)
            sector = self.areas[(edition, first)]
            if rng.randrange(100) < 5:
                sector = rng.choice(sector_codes[len(AREAS) :])
            weight = rng.randint(1, 30) ** 2 * (3 if sector == "medical-healthcare" else 2)
            drafts.append((buyer, (first, *others), sector, weight))

        amounts = _amounts(
            [weight for *_, weight in drafts], in_currency, EXCHANGE_RATES[edition][1], total_usd
        )
        rows = []
        for i, ((buyer, exhibitors, sector, _weight), currency, amount) in enumerate(
            zip(drafts, in_currency, amounts, strict=True)
        ):
            rows.append(
                AgreementRow(
                    reference=f"{prefix}-{first_number + i:04d}",
                    delegation=buyer.delegation,
                    buyer=buyer.organization,
                    exhibitors=exhibitors,
                    kind=STRATEGIC_COOPERATION if rng.randrange(100) < 8 else PURCHASE,
                    sector=sector,
                    amount=amount,
                    currency=currency,
                    signed_on=days[i],
                    status=EXECUTED if rng.randrange(100) < executed_share else SIGNED,
                    is_public=rng.randrange(100) < 60,
                )
            )
        return rows

    # -- visits and what came of them --------------------------------------------------

    def _visits_2019(self, delegations: list[tuple[DelegationKey, int]]) -> None:
        """About 320 companies visited (120 by the bureau, 200 by sub-delegations), some
        twice; over 40 with an investment intention; 43 interested in CIFTIS."""
        top = delegations[0][0]
        exhibiting = [row.organization for row in self.exhibitors if row.edition == CIIE_2019]
        visited = self.rng.sample(exhibiting, VISITED_BY_BUREAU + VISITED_BY_SUBS)
        subs = [(CIIE_2019, sub.slug) for sub in SUBS_2019]
        sub_weights = [sub.visit_weight for sub in SUBS_2019]
        visitor = {}
        for i, org in enumerate(visited):
            visitor[org] = top if i < VISITED_BY_BUREAU else self.rng.choices(subs, sub_weights)[0]
        intending = dict.fromkeys(self.rng.sample(visited, sum(INTENTION_STAGES.values())))
        interested = dict.fromkeys(self.rng.sample(visited, self.figures["ciftis_interest"]))
        again = dict.fromkeys(self.rng.sample(visited, REVISITED))
        days = EXPO_DAYS[CIIE_2019]
        for org in visited:
            first = self.rng.randrange(len(days) - 1)
            self.visits.append(
                VisitRow(
                    delegation=visitor[org],
                    organization=org,
                    visited_on=days[first],
                    investment_intention=org in intending,
                    ciftis_interest=org in interested,
                )
            )
            if org in again:
                later = days[self.rng.randrange(first + 1, len(days))]
                self.visits.append(VisitRow(visitor[org], org, later))

        stages = [stage for stage, n in INTENTION_STAGES.items() for _ in range(n)]
        self.rng.shuffle(stages)
        for org, stage in zip(intending, stages, strict=True):
            amount, currency = None, USD
            if self.rng.randrange(10) < 7:
                if self.rng.randrange(5):
                    amount = Decimal(self.rng.randrange(5, 300) * MILLION)
                else:
                    amount, currency = Decimal(self.rng.randrange(30, 2000) * MILLION), "CNY"
            self.intentions.append(
                IntentionRow(
                    delegation=visitor[org],
                    organization=org,
                    sector=self.areas[(CIIE_2019, org)],
                    amount=amount,
                    currency=currency,
                    stage=stage,
                )
            )

    # -- a second delegation -----------------------------------------------------------

    def _shanghai(self, signed: list[OrgKey], unsigned: list[OrgKey]) -> None:
        """A few records of Shanghai's delegation at the same expo, some with the same
        organizations and exhibitors as Beijing's: none of them counts for Beijing."""
        self.delegations.append(SHANGHAI)
        key = SHANGHAI.key
        beijing = [
            r.organization
            for r in self.registrations
            if r.delegation == (CIIE_2019, "beijing")
            and r.status != WITHDRAWN
            and r.is_purchaser
            and self.by_key[r.organization].illustrative
        ]
        members = [
            self.by_key[org] for org in self.rng.sample(beijing, SHANGHAI_SHARED_ORGANIZATIONS)
        ]
        for _ in range(SHANGHAI_NEW_ORGANIZATIONS):
            kind = self.rng.choice(ENTERPRISES)
            members.append(
                self._chinese_organization(
                    kind, imports=self._imports(kind), divisions=SHANGHAI_DIVISIONS
                )
            )
        for org in members:
            self.registrations.append(
                RegistrationRow(
                    delegation=key,
                    organization=org.key,
                    participants=self.rng.randrange(1, 7),
                    is_purchaser=True,
                    status=ATTENDED,
                    registered_on=self._day(datetime.date(2019, 6, 3), 120),
                )
            )
        parties = self.rng.sample(signed, 3) + self.rng.sample(unsigned, 7)
        for i in range(SHANGHAI_AGREEMENTS):
            exhibitor = parties[i]
            self.agreements.append(
                AgreementRow(
                    reference=f"CIIE2019-SH-{i + 1:04d}",
                    delegation=key,
                    buyer=members[i % 8].key,
                    exhibitors=(exhibitor,),
                    kind=PURCHASE,
                    sector=self.areas[(CIIE_2019, exhibitor)],
                    amount=Decimal(self.rng.randrange(50, 3000) * 10_000),
                    currency=USD,
                    signed_on=EXPO_DAYS[CIIE_2019][i % 3],
                    status=SIGNED,
                    is_public=bool(i % 2),
                )
            )
        beijing_visited = list(dict.fromkeys(v.organization for v in self.visits))
        visited = self.rng.sample(beijing_visited, 8) + self.rng.sample(unsigned, 4)
        for i, org in enumerate(dict.fromkeys(visited)):
            self.visits.append(
                VisitRow(key, org, EXPO_DAYS[CIIE_2019][i % 6], investment_intention=i < 2)
            )
            if i < 2:
                self.intentions.append(
                    IntentionRow(key, org, self.areas[(CIIE_2019, org)], None, USD, "expressed")
                )

    # -- helpers -----------------------------------------------------------------------

    def _day(self, first: datetime.date, span: int) -> datetime.date:
        return first + datetime.timedelta(days=self.rng.randrange(span))


def demo_credit_code(first_eight: str, serial: int) -> str:
    """A Unified Social Credit Code that passes every check (GB 32100-2015, and the
    GB 11714 organization code inside it) but that no real body holds: the organization
    code is DM followed by the serial number."""
    body = f"{DEMO_CODE_PREFIX}{serial:06d}"
    values = [int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in body]
    remainder = 11 - sum(v * w for v, w in zip(values, ORG_CODE_WEIGHTS, strict=True)) % 11
    check = {10: "X", 11: "0"}.get(remainder, str(remainder))
    first17 = f"{first_eight}{body}{check}"
    return first17 + uscc_check_character(first17)


def _spread(rng: random.Random, count: int, total: int, weights: list[int]) -> list[int]:
    """`count` head counts of at least one that add up to exactly `total`."""
    sizes = list(range(1, len(weights) + 1))
    values = rng.choices(sizes, weights, k=count)
    difference = total - sum(values)
    largest = len(weights) * 2
    while difference:
        i = rng.randrange(count)
        if difference > 0 and values[i] < largest:
            values[i] += 1
            difference -= 1
        elif difference < 0 and values[i] > 1:
            values[i] -= 1
            difference += 1
    return values


def _amounts(
    weights: Sequence[int], currencies: Sequence[str], rates: dict[str, Decimal], total: Decimal
) -> list[Decimal]:
    """Amounts in their currencies, in round tens of thousands, whose US$ equivalents at
    `rates` add up to exactly `total`: the largest dollar agreement takes the remainder."""
    absorber = max(
        (i for i, currency in enumerate(currencies) if currency == USD), key=lambda i: weights[i]
    )
    whole = sum(weights)
    amounts = []
    for weight, currency in zip(weights, currencies, strict=True):
        rate = rates.get(currency, Decimal(1))
        share = total * weight / whole / rate
        amounts.append(max(Decimal(1), (share / 10_000).to_integral_value()) * 10_000)
    converted = sum(
        amount * rates.get(currency, Decimal(1))
        for i, (amount, currency) in enumerate(zip(amounts, currencies, strict=True))
        if i != absorber
    )
    amounts[absorber] = total - converted
    if amounts[absorber] <= 0 or amounts[absorber] != amounts[absorber].to_integral_value():
        raise ValueError("The amounts cannot add up to the total in whole dollars.")
    return [amount.quantize(Decimal("0.01")) for amount in amounts]


def _is_large(org: OrganizationRow) -> bool:
    return org.annual_imports_usd is not None and org.annual_imports_usd > LARGE_IMPORTER_USD


def _check_unique(population: Population) -> None:
    """Every row has a natural key of its own, as the database will insist."""
    keys = {
        "delegations": [r.key for r in population.delegations],
        "organizations": [r.key for r in population.organizations],
        "registrations": [(r.delegation, r.organization) for r in population.registrations],
        "exhibitors": [(r.edition, r.organization) for r in population.exhibitors],
        "agreements": [r.reference for r in population.agreements],
        "visits": [(r.delegation, r.organization, r.visited_on) for r in population.visits],
        "intentions": [(r.delegation, r.organization) for r in population.intentions],
        "pledges": [(r.target_edition, r.organization) for r in population.pledges],
    }
    for part, values in keys.items():
        if len(values) != len(dict.fromkeys(values)):
            raise ValueError(f"The demo population repeats a key among its {part}.")
