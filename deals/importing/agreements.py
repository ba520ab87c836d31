"""The sheets of what is signed: exchange rates, then purchase agreements."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from deals.currencies import USD
from deals.models import CENT, Agreement, AgreementExhibitor, ExchangeRate
from delegations.models import Delegation, Edition, Registration, RegistrationStatus
from delegations.scope import delegation_within

from ..sheets import CellError, Message, check_decimals, plain
from .base import Row, SheetImport
from .writing import Values

SEPARATORS = re.compile(r"[;；]")


class ExchangeRateImport(SheetImport):
    """Exchange rates, matched on currency and day; imported before the agreements that
    need them."""

    def process(self, rows: list[Row]) -> None:
        plans = []
        for row in rows:
            key = (row.values["currency"], row.values["valid_on"])
            if self.once(row, key, "valid_on"):
                plans.append((row, key))
        existing = {
            (rate.currency, rate.valid_on): rate
            for rate in ExchangeRate.objects.filter(
                currency__in={key[0] for _, key in plans},
                valid_on__in={key[1] for _, key in plans},
            )
        }
        upserts = []
        for row, (currency, valid_on) in plans:
            values: dict[str, Any] = {"usd_per_unit": row.values["usd_per_unit"]}
            if self.has("source"):
                values["source"] = row.values.get("source") or ""
            identity = {"currency": currency, "valid_on": valid_on}
            upserts.append((row, existing.get((currency, valid_on)), identity, values))
        self.upsert(ExchangeRate, upserts)
        self.lookups.rates_changed()


class AgreementImport(SheetImport):
    """Purchase agreements, matched on their reference. The buyer must be registered (and
    not withdrawn) in the delegation's tree at that edition; the exhibitors must exhibit
    at that edition. The US$ equivalent is frozen at the rate of the signing day, as
    Agreement.freeze_usd() does, from a cache of the rates."""

    field_columns = {
        "registration": "buyer",
        "delegation": "delegation",
        "is_public": "public",
        "amount_usd": "amount",
        "usd_rate": "currency",
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._buyers: dict[tuple, tuple[Registration | None, str, Message | None]] = {}
        self._exhibitors: dict[tuple, tuple[tuple[int, ...], list[Message]]] = {}

    def process(self, rows: list[Row]) -> None:
        plans = []
        for row in rows:
            given = row.values
            reference = given["reference"]
            if not self.once(row, reference, "reference"):
                continue
            edition = self.edition(row, "edition")
            delegation = self.delegation(row, "delegation", edition)
            if delegation is None:
                continue
            registration = self.buyer(row, delegation)
            exhibitors = self.exhibitor_ids(row, edition)
            values = self.values(row)
            if not row.ok:
                continue
            values["delegation_id"] = delegation.pk
            values["registration_id"] = registration.pk
            plans.append((row, reference, delegation, registration, exhibitors, values))

        # What is recorded, as plain values first: a re-import that changes nothing
        # loads no model instance.
        compared = sorted({name for plan in plans for name in plan[5]})
        recorded = {
            values[1]: values
            # No ordering: the model's default sort would cost a sort per chunk for nothing.
            for values in Agreement.objects.filter(reference__in=[plan[1] for plan in plans])
            .order_by()
            .values_list("pk", "reference", "is_public", *compared)
        }
        links: dict[int, list[Values]] = {}
        if recorded:
            for pk, agreement_id, exhibitor_id in (
                AgreementExhibitor.objects.filter(
                    agreement_id__in=[values[0] for values in recorded.values()]
                )
                .order_by("pk")
                .values_list("pk", "agreement_id", "exhibitor_id")
            ):
                links.setdefault(agreement_id, []).append(
                    Values({"id": pk, "agreement_id": agreement_id, "exhibitor_id": exhibitor_id})
                )

        creates: list[tuple[Agreement, tuple[int, ...]]] = []
        changes = []
        link_adds: list[dict[str, int]] = []
        link_removes: list[Values] = []
        for row, reference, delegation, registration, exhibitors, values in plans:
            found = recorded.get(reference)
            if found is None:
                if not self.may_disclose(row, values.get("is_public", False), False):
                    continue
                agreement = self.build(Agreement, {"reference": reference, **values})
                agreement.delegation = delegation
                agreement.registration = registration
                if self.freeze(row, agreement, delegation) and self.validate(agreement, row):
                    creates.append((agreement, exhibitors))
                continue
            pk, is_public = found[0], found[2]
            recorded_in = self.lookups.delegations[found[3 + compared.index("delegation_id")]]
            if not self.recorded_within(row, reference, recorded_in):
                continue
            if "is_public" in values and not self.may_disclose(row, values["is_public"], is_public):
                continue
            current = links.get(pk, [])
            wanted = set(exhibitors)
            removes = [link for link in current if link.exhibitor_id not in wanted]
            have = {link.exhibitor_id for link in current}
            adds = [
                {"agreement_id": pk, "exhibitor_id": exhibitor}
                for exhibitor in exhibitors
                if exhibitor not in have
            ]
            differs = any(
                values[name] != value
                for name, value in zip(compared, found[3:], strict=True)
                if name in values
            )
            if not differs and not adds and not removes:
                self.counts.unchanged += 1
                continue
            self.counts.updated += 1
            link_adds += adds
            link_removes += removes
            if differs:
                changes.append((row, pk, delegation, registration, values))

        updates: list[Agreement] = []
        fields: set[str] = set()
        instances = Agreement.objects.in_bulk([change[1] for change in changes])
        for row, pk, delegation, registration, values in changes:
            agreement = instances[pk]
            if not self.stage_move(row, agreement, values):
                continue
            changed = self.apply(agreement, values)
            agreement.delegation = delegation
            agreement.registration = registration
            if changed & {"amount", "currency", "signed_on"} or (
                "delegation_id" in changed and not agreement.signed_on
            ):
                if not self.freeze(row, agreement, delegation):
                    continue
                changed |= {"amount_usd", "usd_rate", "usd_rate_on"}
            if self.validate(agreement, row):
                updates.append(agreement)
                fields |= changed

        self.writer.create(Agreement, [agreement for agreement, _ in creates])
        self.writer.create_values(
            AgreementExhibitor,
            [
                {"agreement_id": agreement.pk, "exhibitor_id": exhibitor}
                for agreement, exhibitors in creates
                for exhibitor in exhibitors
            ]
            + link_adds,
        )
        self.writer.update(Agreement, updates, fields)
        self.writer.delete(AgreementExhibitor, link_removes)
        self.counts.created += len(creates)

    def values(self, row: Row) -> dict[str, Any]:
        """The agreement's fields from the row: those of absent columns are left out, an
        empty cell of a present column gives the contract's default."""
        given = row.values
        currency = (given.get("currency") or USD) if self.has("currency") else None
        amount = given["amount"]
        if amount is not None:
            try:
                check_decimals(amount, currency or USD)
            except CellError as error:
                self.fail(row, "amount", error.message)
        values: dict[str, Any] = {"amount": amount}
        if currency is not None:
            values["currency"] = currency
        if self.has("kind"):
            values["kind"] = given.get("kind") or Agreement._meta.get_field("kind").default
        if self.has("sector"):
            sector = self.sector(row, "sector")
            values["sector_id"] = sector.pk if sector else None
        if self.has("signed_on"):
            values["signed_on"] = given.get("signed_on")
        if self.has("status"):
            values["status"] = given.get("status") or Agreement._meta.get_field("status").default
        if self.has("public"):
            values["is_public"] = bool(given.get("public"))
        if self.has("illustrative"):
            values["illustrative"] = bool(given.get("illustrative"))
        return values

    def recorded_within(self, row: Row, reference: str, delegation: Delegation) -> bool:
        """A row may change an agreement of the importer's delegations only: the
        reference of another delegation's agreement is a row error, never a move."""
        if delegation_within(self.job.scope, delegation):
            return True
        self.fail(
            row,
            "reference",
            Message(
                _(
                    "the agreement %(reference)s is recorded in %(delegation)s at %(edition)s, "
                    "which is not one of your delegations."
                ),
                reference=reference,
                delegation=delegation.name_zh,
                edition=delegation.edition,
            ),
        )
        return False

    def may_disclose(self, row: Row, wanted: bool, current: bool) -> bool:
        """Only reviewers decide whether an amount is public (TRAPS 2): a file may
        repeat what is recorded, not change it, unless its importer may disclose."""
        if wanted == current or self.job.may_disclose:
            return True
        self.fail(
            row,
            "public",
            Message(
                _(
                    "only reviewers decide whether an amount is public; this row would make it "
                    "“%(wanted)s”. Leave the cell as it was, or ask a reviewer to import it."
                ),
                wanted=_("yes") if wanted else _("no"),
            ),
        )
        return False

    def freeze(self, row: Row, agreement: Agreement, delegation: Delegation) -> bool:
        """The US$ equivalent at the rate in force on the signing day (else the
        edition's first day), as Agreement.freeze_usd() computes it."""
        day = agreement.signed_on or delegation.edition.starts_on
        if agreement.currency == USD:
            rate, rate_on = Decimal(1), day
        else:
            found = self.lookups.rate_on(agreement.currency, day)
            if found is None:
                self.fail(
                    row,
                    "currency",
                    Message(
                        _(
                            "there is no exchange rate for %(currency)s on or before %(day)s: "
                            "add one under exchange rates, or in the Exchange rates sheet "
                            "(汇率) of this workbook."
                        ),
                        currency=agreement.currency,
                        day=day.isoformat(),
                    ),
                )
                return False
            rate, rate_on = found
        agreement.usd_rate = rate
        agreement.usd_rate_on = rate_on
        agreement.amount_usd = (Decimal(agreement.amount) * rate).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
        agreement._frozen_inputs = agreement._usd_inputs()
        return True

    def buyer(self, row: Row, delegation: Delegation) -> Registration | None:
        name = row.values["buyer"]
        code = row.values.get("buyer_credit_code")
        top = delegation.top
        key = (top.pk, name, code)
        found = self._buyers.get(key)
        if found is None:
            found = self._buyers[key] = self.find_buyer(top, name, code)
        registration, column, problem = found
        if problem is not None:
            self.fail(row, column, problem)
        return registration

    def find_buyer(self, top: Delegation, name: str, code: str | None):
        tree = self.lookups.tree(top)
        where = {"delegation": top.name_zh, "edition": top.edition}
        if code:
            registration = tree.by_code.get(code)
            if registration is None:
                return (
                    None,
                    "buyer_credit_code",
                    Message(
                        _(
                            "no organization with the credit code %(code)s is registered in "
                            "%(delegation)s at %(edition)s."
                        ),
                        code=code,
                        **where,
                    ),
                )
        else:
            found = {
                registration.organization_id: registration
                for registration in tree.by_name.get(plain(name), ())
            }
            if not found:
                return (
                    None,
                    "buyer",
                    Message(
                        _(
                            "“%(name)s” is not registered in %(delegation)s at %(edition)s: a "
                            "buyer must be registered (sheet Registrations / 报名) first."
                        ),
                        name=name,
                        **where,
                    ),
                )
            if len(found) > 1:
                return (
                    None,
                    "buyer",
                    Message(
                        _(
                            "“%(name)s” names %(count)s registered organizations: give the "
                            "buyer's credit code in the column buyer_credit_code "
                            "(采购方统一社会信用代码)."
                        ),
                        name=name,
                        count=len(found),
                    ),
                )
            (registration,) = found.values()
        if registration.status == RegistrationStatus.WITHDRAWN:
            return (
                None,
                "buyer",
                Message(
                    _("“%(name)s” has withdrawn from %(delegation)s at %(edition)s."),
                    name=name,
                    **where,
                ),
            )
        return registration, "buyer", None

    def exhibitor_ids(self, row: Row, edition: Edition | None) -> tuple[int, ...]:
        text = row.values["exhibitors"]
        if edition is None or text is None:
            return ()
        key = (edition.pk, text)
        found = self._exhibitors.get(key)
        if found is None:
            found = self._exhibitors[key] = self.find_exhibitors(edition, text)
        ids, problems = found
        for problem in problems:
            self.fail(row, "exhibitors", problem)
        return ids

    def find_exhibitors(self, edition: Edition, text: str):
        exhibitors = self.lookups.exhibitors(edition)
        ids: dict[int, None] = {}
        problems = []
        names = [name.strip() for name in SEPARATORS.split(text) if name.strip()]
        for name in names:
            found = {
                exhibitor.pk: exhibitor for exhibitor in exhibitors.by_name.get(plain(name), ())
            }
            if len(found) == 1:
                ids.setdefault(next(iter(found)))
            elif not found:
                problems.append(
                    Message(
                        _(
                            "“%(name)s” is not an exhibitor at %(edition)s (sheet Exhibitors / "
                            "展商)."
                        ),
                        name=name,
                        edition=edition,
                    )
                )
            else:
                problems.append(
                    Message(
                        _("“%(name)s” names %(count)s exhibitors at %(edition)s."),
                        name=name,
                        count=len(found),
                        edition=edition,
                    )
                )
        if not names:
            problems.append(Message(_("required, but the cell is empty.")))
        return tuple(ids), problems
