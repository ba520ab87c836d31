"""Every URL of the site, walked as the public, a data-entry clerk and a reviewer.

The URL patterns are enumerated from the resolver (the admin's pages of every
registered model, the public pages and downloads, every API endpoint), and each must be
classified in `EXPECTED` with the status each role gets: a new URL that nobody
classified fails the walk, so the walk cannot pass by not looking. The database holds
secrets with recognisable values (an undisclosed amount, a visited company, a company
that intends to invest), and no answer to the public may carry them, whatever its
format (HTML, CSV, JSON, XLSX).

The clerk and the reviewer are members of the delegation whose records the walk uses;
scope itself is tested in tests/delegations/test_scope.py.
"""

from __future__ import annotations

import datetime
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token, TokenProxy

from deals.models import (
    Agreement,
    AgreementStatus,
    ExchangeRate,
    ImportRun,
    Publication,
    Sector,
)
from deals.services import figures_publish
from delegations.models import Delegation, Edition, Fair
from tests.factories import (
    DATA_ENTRY,
    REVIEWERS,
    CiftisPledgeFactory,
    ExchangeRateFactory,
    ExhibitorFactory,
    InvestmentIntentionFactory,
    OrganizationFactory,
    RegistrationFactory,
    SectorFactory,
    VisitFactory,
    staff_member,
)
from tests.pages import agreement_in, beijing

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "data_entry", "reviewer")

# The secrets: an amount the buyer did not disclose, and the companies of a visit and of
# an investment intention (never public).
SECRET_AMOUNT = Decimal("987654321.00")
SECRET_VISITED = ("隐秘拜访企业", "Quietvisit Widgets")
SECRET_INTENDING = ("隐秘投资意向企业", "Hiddenplan Holdings")
SECRET_TEXTS = (
    "987654321",
    "987,654,321",
    "987 654 321",
    "9.87654321e",
    *SECRET_VISITED,
    *SECRET_INTENDING,
)

# ---------------------------------------------------------------------------------------
# What each role gets
# ---------------------------------------------------------------------------------------

LOGIN = "login"  # a redirect to the admin's login page


@dataclass(frozen=True)
class Expect:
    """The status of a GET for each role (LOGIN: redirected to the login page)."""

    anonymous: int | str
    data_entry: int
    reviewer: int

    def of(self, role: str) -> int | str:
        return getattr(self, role)


PUBLIC = Expect(200, 200, 200)
STAFF_ONLY = Expect(LOGIN, 200, 200)
STAFF_API = Expect(401, 200, 200)
REVIEWER_ONLY = Expect(LOGIN, 403, 200)
NOBODY = Expect(LOGIN, 403, 403)
REDIRECT = Expect(LOGIN, 302, 302)

# Records the bureau keeps: data entry views, adds and changes them, reviewers also
# delete them (and decide what of them is public).
RECORD_PAGES = {
    "changelist": STAFF_ONLY,
    "add": STAFF_ONLY,
    "change": STAFF_ONLY,
    "delete": REVIEWER_ONLY,
    "history": STAFF_ONLY,
    "simple_history": STAFF_ONLY,
    "redirect": REDIRECT,
}
# Fairs and editions: data entry reads them, reviewers add and correct them, nobody
# deletes one (every record hangs on them).
REFERENCE_PAGES = {**RECORD_PAGES, "add": REVIEWER_ONLY, "delete": NOBODY}
# Both roles read the publications; they are made on the publish page, by reviewers,
# and never changed.
PUBLICATION_PAGES = {
    "changelist": STAFF_ONLY,
    "add": NOBODY,
    "change": STAFF_ONLY,
    "delete": NOBODY,
    "history": STAFF_ONLY,
    "redirect": REDIRECT,
    "publish": REVIEWER_ONLY,
}
# The history of imports is read-only; both roles import, reviewers undo.
IMPORT_PAGES = {
    "changelist": STAFF_ONLY,
    "add": NOBODY,
    "change": STAFF_ONLY,
    "delete": NOBODY,
    "history": STAFF_ONLY,
    "redirect": REDIRECT,
    "import": STAFF_ONLY,
    # The walk's preview was uploaded by the clerk: nobody else confirms it.
    "preview": Expect(LOGIN, 200, 403),
    "confirm": Expect(LOGIN, 405, 405),  # POST only
    "undo": REVIEWER_ONLY,
}
# Accounts, groups and API tokens: the administrators', neither role's.
ACCOUNT_PAGES = {
    "changelist": NOBODY,
    "add": NOBODY,
    "change": NOBODY,
    "delete": NOBODY,
    "history": NOBODY,
    "redirect": REDIRECT,
}

EXPORTABLE = {"export": STAFF_ONLY}
FOLLOWED = {"move": STAFF_ONLY}

ADMIN_MODELS: dict[str, dict[str, Expect]] = {
    "delegations_fair": REFERENCE_PAGES,
    "delegations_edition": REFERENCE_PAGES,
    "delegations_delegation": {**RECORD_PAGES, **EXPORTABLE},
    "delegations_organization": {
        **RECORD_PAGES,
        **EXPORTABLE,
        "company": STAFF_ONLY,
        "merge": REVIEWER_ONLY,
    },
    "delegations_registration": {**RECORD_PAGES, **EXPORTABLE},
    "deals_sector": RECORD_PAGES,
    "deals_exchangerate": {**RECORD_PAGES, **EXPORTABLE},
    "deals_exhibitor": {**RECORD_PAGES, **EXPORTABLE},
    "deals_agreement": {**RECORD_PAGES, **EXPORTABLE, **FOLLOWED},
    "deals_visit": {**RECORD_PAGES, **EXPORTABLE},
    "deals_investmentintention": {**RECORD_PAGES, **EXPORTABLE, **FOLLOWED},
    "deals_ciftispledge": {**RECORD_PAGES, **EXPORTABLE, **FOLLOWED},
    "deals_publication": PUBLICATION_PAGES,
    "deals_importrun": IMPORT_PAGES,
    "auth_group": ACCOUNT_PAGES,
    "auth_user": {**ACCOUNT_PAGES, "password_change": NOBODY},
    "authtoken_tokenproxy": ACCOUNT_PAGES,
    # The login lockouts (django-axes): the administrators' too.
    "axes_accessattempt": ACCOUNT_PAGES,
    "axes_accesslog": ACCOUNT_PAGES,
    "axes_accessfailurelog": ACCOUNT_PAGES,
}

PUBLIC_PAGES = [
    "deals:home",
    "deals:headline",
    "deals:publications",
    "deals:agreements",
    "deals:exhibitors",
    "deals:pledges",
    "delegations:index",
    "delegations:edition",
    "delegations:organizations",
]
DOWNLOADS = [
    "deals:figures_download",
    "deals:agreements_download",
    "deals:totals_download",
    "deals:exhibitors_download",
    "deals:pledges_download",
    "delegations:organizations_download",
]
PUBLIC_API = [
    f"{app}-api:{name}-{kind}"
    for app, names in {
        "delegations": ["fair", "edition", "delegation", "participant"],
        "deals": ["sector", "exhibitor", "agreement", "pledge", "publication"],
    }.items()
    for name in names
    for kind in ("list", "detail")
] + ["deals-api:statistics"]
STAFF_API_ENDPOINTS = [
    f"{app}-api:staff-{name}-{kind}"
    for app, names in {
        "delegations": ["fair", "edition", "delegation", "organization", "registration"],
        "deals": [
            "sector",
            "exchange-rate",
            "exhibitor",
            "agreement",
            "visit",
            "investment-intention",
            "ciftis-pledge",
        ],
    }.items()
    for name in names
    for kind in ("list", "detail")
] + ["deals-api:staff-statistics"]
MOVES_API = [
    "deals-api:staff-agreement-move",
    "deals-api:staff-investment-intention-move",
    "deals-api:staff-ciftis-pledge-move",
]

EXPECTED: dict[str, Expect] = {
    # The admin site's own pages.
    "admin:index": STAFF_ONLY,
    "admin:login": Expect(200, 302, 302),  # staff already logged in go to the index
    # POST only; the public is sent to the index (and from there to the login page).
    "admin:logout": Expect(302, 405, 405),
    "admin:password_change": STAFF_ONLY,
    "admin:password_change_done": STAFF_ONLY,
    "admin:autocomplete": NOBODY,  # without the field it completes, refused
    "admin:jsi18n": STAFF_ONLY,
    "admin:view_on_site": REDIRECT,
    "admin:app_list": STAFF_ONLY,
    "admin:deals_blank_template": STAFF_ONLY,
    "admin:<catch-all>": Expect(LOGIN, 404, 404),
    **{
        f"admin:{model}_{page}": expected
        for model, pages in ADMIN_MODELS.items()
        for page, expected in pages.items()
    },
    # The public site.
    "healthz": PUBLIC,  # for load balancers: says only whether the site can serve
    "set_language": Expect(302, 302, 302),
    **dict.fromkeys(PUBLIC_PAGES, PUBLIC),
    **dict.fromkeys(DOWNLOADS, PUBLIC),
    # The API.
    "api:schema": PUBLIC,
    "api:docs": PUBLIC,
    "api:redoc": PUBLIC,
    "api:token": Expect(405, 405, 405),  # POST only
    "api:<catch-all>": Expect(404, 404, 404),
    **dict.fromkeys(PUBLIC_API, PUBLIC),
    **dict.fromkeys(STAFF_API_ENDPOINTS, STAFF_API),
    **dict.fromkeys(MOVES_API, Expect(401, 405, 405)),  # POST only
}

# ---------------------------------------------------------------------------------------
# The URL patterns
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # the qualified name, or what stands for an unnamed pattern
    pattern: URLPattern
    route: str  # the whole pattern, prefixes included


def walk(resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern, prefix + str(pattern.pattern), inner)
        else:
            yield Route(key_of(pattern, prefix, namespace), pattern, prefix + str(pattern.pattern))


def key_of(pattern: URLPattern, prefix: str, namespace: str) -> str:
    if pattern.name:
        return f"{namespace}{pattern.name}"
    route = prefix + str(pattern.pattern)
    if match := re.fullmatch(r"admin/(\w+)/(\w+)/<path:object_id>/", route):
        return f"admin:{match[1]}_{match[2]}_redirect"
    if route == "admin/(?P<url>.*)$":
        return "admin:<catch-all>"
    if route == "^api/":
        return "api:<catch-all>"
    return f"<unnamed {route}>"


def routes() -> dict[str, Route]:
    """The routes by key, the first of each (a format-suffixed twin shares its name)."""
    found: dict[str, Route] = {}
    for route in walk():
        found.setdefault(route.key, route)
    return found


def test_every_url_of_the_site_is_classified():
    walked = set(routes())
    assert walked - set(EXPECTED) == set(), "classify these URLs in EXPECTED"
    assert set(EXPECTED) - walked == set(), "these classified URLs no longer exist"


def test_every_registered_admin_model_is_classified():
    from django.contrib import admin

    registered = {f"{m._meta.app_label}_{m._meta.model_name}" for m in admin.site._registry}
    assert registered == set(ADMIN_MODELS)


# ---------------------------------------------------------------------------------------
# The population
# ---------------------------------------------------------------------------------------


@dataclass
class Population:
    delegation: Delegation
    records: dict[type, Any]
    secret: Agreement
    users: dict[str, Any]
    run: ImportRun


@pytest.fixture
def population() -> Population:
    delegation = beijing()
    sector = SectorFactory(code="walk-sector", name_zh="走查领域", name_en="Walk sector")
    rate = ExchangeRateFactory()
    exhibitor = ExhibitorFactory(edition=delegation.edition)
    disclosed = agreement_in(
        delegation, reference="WALK-OPEN", amount=Decimal("1000000"), is_public=True
    )
    secret = agreement_in(
        delegation,
        reference="WALK-SECRET",
        amount=SECRET_AMOUNT,
        is_public=False,
        sector=sector,
        exhibitors=[exhibitor],
        status=AgreementStatus.SIGNED,
    )
    visit = VisitFactory(
        delegation=delegation,
        organization=OrganizationFactory(name_zh=SECRET_VISITED[0], name_en=SECRET_VISITED[1]),
    )
    intention = InvestmentIntentionFactory(
        delegation=delegation,
        organization=OrganizationFactory(name_zh=SECRET_INTENDING[0], name_en=SECRET_INTENDING[1]),
        amount=SECRET_AMOUNT,
    )
    pledge = CiftisPledgeFactory(source_delegation=delegation)
    figures_publish(delegation=delegation, user=None, as_of=datetime.date(2019, 11, 11))
    clerk = staff_member(DATA_ENTRY, username="walk.clerk", delegations=[delegation])
    reviewer = staff_member(REVIEWERS, username="walk.reviewer", delegations=[delegation])
    run = ImportRun.objects.create(
        user=clerk,
        filename="walk.csv",
        sha256="0" * 64,
        size=1,
        status=ImportRun.Status.IMPORTED,
        imported_at=datetime.datetime(2019, 11, 12, tzinfo=datetime.UTC),
    )
    token, _ = Token.objects.get_or_create(user=clerk)
    attempt = {
        "user_agent": "walk",
        "ip_address": "192.0.2.1",
        "username": "walk.clerk",
        "http_accept": "*/*",
        "path_info": "/admin/login/",
    }
    records = {
        Fair: Fair.objects.get(code="ciie"),
        Edition: delegation.edition,
        Delegation: delegation,
        Agreement: secret,
        Sector: sector,
        ExchangeRate: rate,
        Publication: Publication.objects.get(),
        ImportRun: run,
        Group: Group.objects.get(name=DATA_ENTRY),
        TokenProxy: TokenProxy.objects.get(pk=token.pk),
        type(clerk): clerk,
        AccessAttempt: AccessAttempt.objects.create(
            **attempt, get_data="", post_data="", failures_since_start=1
        ),
        AccessLog: AccessLog.objects.create(**attempt),
        AccessFailureLog: AccessFailureLog.objects.create(**attempt),
        type(visit): visit,
        type(intention): intention,
        type(pledge): pledge,
        type(exhibitor): exhibitor,
    }
    records[type(secret.registration)] = secret.registration
    records[type(secret.registration.organization)] = secret.registration.organization
    assert disclosed.pk
    return Population(
        delegation=delegation,
        records=records,
        secret=secret,
        users={"data_entry": clerk, "reviewer": reviewer},
        run=run,
    )


# ---------------------------------------------------------------------------------------
# Building each URL
# ---------------------------------------------------------------------------------------


def model_of(route: Route):
    """The model a route is about: from an admin name, or an API viewset's queryset."""
    name = route.key.rpartition(":")[2]
    if route.key.startswith("admin:") and name.count("_") >= 2:
        app_label, model_name = name.split("_")[:2]
        try:
            return apps.get_model(app_label, model_name)
        except LookupError:
            return None
    view = getattr(route.pattern.callback, "cls", None)
    queryset = getattr(view, "queryset", None)
    return queryset.model if queryset is not None else None


def urls_of(route: Route, population: Population) -> list[str]:
    """The addresses a route is walked at (a download at each of its formats)."""
    model = model_of(route)
    record = population.records.get(model) if model else None
    converters = route.pattern.pattern.converters
    groups = re.findall(r"\(\?P<(\w+)>", str(route.pattern.pattern)) + list(converters)
    if route.key == "admin:<catch-all>":
        return ["/admin/no/such/page/"]
    if route.key == "api:<catch-all>":
        return ["/api/no-such-endpoint/"]
    if route.key.endswith("_redirect"):
        return [re.sub(r"<path:object_id>", str(record.pk), "/" + route.route)]
    if route.key.endswith("_simple_history"):
        version = record.history.order_by("history_id").first()
        return [reverse(route.key, args=[record.pk, version.history_id])]
    view = getattr(route.pattern.callback, "cls", None)
    lookup = getattr(view, "lookup_field", "pk")
    kwargs: dict[str, Any] = {}
    for group in groups:
        if group == "format":
            continue
        kwargs[group] = value_for(group, route, record, lookup, population)
    if "format" in converters:
        return [reverse(route.key, kwargs={**kwargs, "format": f}) for f in ("csv", "json")]
    return [reverse(route.key, kwargs=kwargs)]


def value_for(group: str, route: Route, record, lookup: str, population: Population) -> Any:
    delegation = population.delegation
    if group == "edition":
        return delegation.edition.slug
    if group == "delegation":
        return delegation.slug
    if group == "app_label":
        return "deals"
    if group == "run_id":
        return population.run.pk
    if group == "content_type_id":
        return ContentType.objects.get_for_model(Delegation).pk
    if group == "other_id":
        return OrganizationFactory(name_zh="待合并企业").pk
    if group == "object_id" and route.key == "admin:view_on_site":
        return delegation.pk
    if group in ("object_id", "id"):
        return record.pk
    if group == lookup or group == "pk":
        return getattr(record, lookup)
    raise AssertionError(f"no value for <{group}> of {route.key}")


# ---------------------------------------------------------------------------------------
# The walk
# ---------------------------------------------------------------------------------------


def client_as(client, role: str, population: Population):
    client.logout()
    if role != "anonymous":
        client.force_login(population.users[role])
    return client


def status_of(response) -> int | str:
    login = reverse("admin:login")
    if response.status_code == 302 and response.url.startswith(login) and "next=" in response.url:
        return LOGIN
    return response.status_code


def body_texts(response) -> str:
    """What an answer carries, as text: an XLSX workbook's cells, or the bytes decoded."""
    content = b"".join(response) if response.streaming else response.content
    if response.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
        workbook = load_workbook(io.BytesIO(content), read_only=True)
        return "\n".join(
            str(cell)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
            for cell in row
        )
    return content.decode("utf-8", errors="replace")


@pytest.mark.parametrize("role", ROLES)
def test_every_url_answers_each_role_as_classified(client, population, role):
    client = client_as(client, role, population)
    wrong = []
    for key, route in sorted(routes().items()):
        expected = EXPECTED[key].of(role)
        for url in urls_of(route, population):
            response = client.get(url)
            got = status_of(response)
            if got != expected:
                wrong.append(f"{url} ({key}): {got}, expected {expected}")
            if role == "anonymous":
                text = body_texts(response)
                leaked = [secret for secret in SECRET_TEXTS if secret in text]
                assert not leaked, f"{url} shows the public {leaked}"
    assert not wrong, "\n".join(wrong)


def test_the_public_downloads_and_api_carry_no_secret(client, population):
    """The walk above reads every public answer; this names the ones that hold the
    records the secrets belong to, so that an empty answer cannot pass for a safe one."""
    agreements = client.get("/api/agreements/WALK-SECRET/").json()
    assert agreements["disclosed"] is False and agreements["amount"] is None
    csv = body_texts(
        client.get(reverse("deals:agreements_download", args=["ciie-2019", "beijing", "csv"]))
    )
    assert "WALK-SECRET" in csv and "WALK-OPEN" in csv
    assert not [secret for secret in SECRET_TEXTS if secret in csv]


# ---------------------------------------------------------------------------------------
# What changes things: deleting, publishing, disclosing
# ---------------------------------------------------------------------------------------


def stored(record) -> bool:
    # By the primary key's own field: an API token's `pk` is its user's.
    key = record._meta.pk
    return type(record)._default_manager.filter(**{key.name: getattr(record, key.attname)}).exists()


def delete_routes() -> list[Route]:
    return [route for key, route in sorted(routes().items()) if key.endswith("_delete")]


def test_data_entry_deletes_nothing_in_the_admin(client, population):
    client = client_as(client, "data_entry", population)
    for route in delete_routes():
        (url,) = urls_of(route, population)
        response = client.post(url, {"post": "yes"})
        assert response.status_code == 403, url
        assert stored(population.records[model_of(route)]), url


def test_data_entry_deletes_nothing_by_the_api(client, population):
    client = client_as(client, "data_entry", population)
    for key in STAFF_API_ENDPOINTS:
        if not key.endswith("-detail"):
            continue
        (url,) = urls_of(routes()[key], population)
        assert client.delete(url).status_code == 403, url
    assert Agreement.objects.filter(pk=population.secret.pk).exists()


def test_a_reviewer_deletes_a_record_of_their_delegation(client, population):
    client = client_as(client, "reviewer", population)
    visit = population.records[type(VisitFactory.build())]
    url = reverse("admin:deals_visit_delete", args=[visit.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not type(visit).objects.filter(pk=visit.pk).exists()
    extra = RegistrationFactory(delegation=population.delegation)
    assert client.delete(f"/api/staff/registrations/{extra.pk}/").status_code == 204


def publish_data(population: Population) -> dict[str, Any]:
    return {"delegation": population.delegation.pk, "as_of": "2019-11-20", "confirm": "yes"}


def test_data_entry_cannot_publish(client, population):
    client = client_as(client, "data_entry", population)
    response = client.post(reverse("admin:deals_publication_publish"), publish_data(population))
    assert response.status_code == 403
    assert Publication.objects.count() == 1


def test_a_reviewer_publishes(client, population):
    client = client_as(client, "reviewer", population)
    response = client.post(reverse("admin:deals_publication_publish"), publish_data(population))
    assert response.status_code == 302
    assert Publication.objects.count() == 2


def make_public(client, agreement: Agreement):
    return client.post(
        reverse("admin:deals_agreement_changelist"),
        {"action": "make_public", "_selected_action": [agreement.pk], "index": 0},
    )


def test_data_entry_cannot_change_what_is_public(client, population):
    client = client_as(client, "data_entry", population)
    secret = population.secret
    form = (
        client.get(reverse("admin:deals_agreement_change", args=[secret.pk]))
        .context["adminform"]
        .form
    )
    assert "is_public" not in form.fields
    make_public(client, secret)
    response = client.patch(
        f"/api/staff/agreements/{secret.pk}/",
        {"is_public": True},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["field"] == "is_public"
    secret.refresh_from_db()
    assert secret.is_public is False


def test_a_reviewer_changes_what_is_public(client, population):
    client = client_as(client, "reviewer", population)
    secret = population.secret
    form = (
        client.get(reverse("admin:deals_agreement_change", args=[secret.pk]))
        .context["adminform"]
        .form
    )
    assert "is_public" in form.fields
    make_public(client, secret)
    secret.refresh_from_db()
    assert secret.is_public is True
    response = client.patch(
        f"/api/staff/agreements/{secret.pk}/",
        {"is_public": False},
        content_type="application/json",
    )
    assert response.status_code == 200
    secret.refresh_from_db()
    assert secret.is_public is False


def test_the_public_sees_a_disclosed_amount_once_a_reviewer_discloses_it(client, population):
    """The check of the walk can fail: once public, the amount does show."""
    population.secret.is_public = True
    population.secret.save()
    agreement = client.get("/api/agreements/WALK-SECRET/").json()
    assert Decimal(agreement["amount"]) == SECRET_AMOUNT
