"""The capture card of a prisoner of war (GC III Art. 70, the model of Annex IV B) and the internment card
of a civilian internee (GC IV Art. 106, the model of Annex III), as PDF in two languages: the prisoner's
and the detaining power's.

The items and their numbers follow the models; the values come from the bureau's record (the domain,
`kinlink.registry.cards`, fills a `CardContent`). What does not apply is struck out, as the models ask.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kinlink.pdf.layout import N_, Bilingual, build, styles, table, value

KINDS = ("capture", "internment")

# The capture card's item 11 (GC III Annex IV B), by kinlink.person.fields.HEALTH_STATES.
HEALTH_LABELS = {
    "good_health": N_("Good health"),
    "not_wounded": N_("Not wounded"),
    "recovered": N_("Recovered"),
    "convalescent": N_("Convalescent"),
    "sick": N_("Sick"),
    "slightly_wounded": N_("Slightly wounded"),
    "seriously_wounded": N_("Seriously wounded"),
}

TITLES = {
    "capture": (
        N_("Capture card for prisoner of war"),
        N_("Third Geneva Convention, Article 70 and Annex IV B"),
    ),
    "internment": (N_("Internment card"), N_("Fourth Geneva Convention, Article 106 and Annex III")),
}
MAIL = {"capture": N_("Prisoner of war mail"), "internment": N_("Civilian internee mail")}
IMPORTANT = {
    "capture": N_(
        "Important: this card is filled in as soon as the prisoner is taken, and again each time their "
        "address changes (transfer to a hospital or to another camp). It is not the card the prisoner may "
        "send to their family."
    ),
    "internment": N_(
        "Important: this card is filled in as soon as the person is interned, and again each time their "
        "address changes (transfer to another place of internment or to a hospital). It is not the card the "
        "internee may send to their family."
    ),
}

# (item key, label) in the model's order; the numbers are the positions.
CAPTURE_ITEMS = (
    ("power", N_("Power on which the prisoner depends")),
    ("family_name", N_("Family name")),
    ("given_names", N_("First names (in full)")),
    ("father_name", N_("First name of father")),
    ("birth_date", N_("Date of birth")),
    ("place_of_birth", N_("Place of birth")),
    ("rank", N_("Rank")),
    ("service_number", N_("Service number")),
    ("family_address", N_("Address of family")),
    ("since", ""),
    ("health", N_("State of health")),
    ("present_address", N_("Present address")),
    ("date", N_("Date")),
    ("signature", N_("Signature")),
)
INTERNMENT_ITEMS = (
    ("nationality", N_("Nationality")),
    ("family_name", N_("Family name")),
    ("given_names", N_("First names (in full)")),
    ("father_name", N_("First name of father")),
    ("birth_date", N_("Date of birth")),
    ("place_of_birth", N_("Place of birth")),
    ("occupation", N_("Occupation")),
    ("address_before", N_("Address before detention")),
    ("family_address", N_("Address of next of kin")),
    ("since", ""),
    ("health", N_("State of health")),
    ("present_address", N_("Present address")),
    ("date", N_("Date")),
    ("signature", N_("Signature")),
)
# Item 10: since when and where the person is held, or where they came from after a move.
SINCE = {
    "capture": (N_("Taken prisoner on"), N_("Coming from (camp, hospital, etc.)")),
    "internment": (N_("Interned on"), N_("Coming from (hospital, etc.) on")),
}
NUMBER = {"capture": N_("Prisoner No."), "internment": N_("Internee No.")}
PLACE = {"capture": N_("Name of camp"), "internment": N_("Place of internment")}


@dataclass(frozen=True)
class CardContent:
    """What one card says. `values` by item key (see CAPTURE_ITEMS, INTERNMENT_ITEMS); `moved` when the
    card is written after a transfer (item 10 then says where the person came from)."""

    kind: str
    languages: tuple[str, ...]  # the prisoner's, then the detaining power's
    values: dict[str, str | None] = field(default_factory=dict)
    health_state: str | None = None
    moved: bool = False
    number: str | None = None  # the prisoner's or internee's number
    place: str | None = None  # the camp or place of internment
    bureau: str = ""
    detaining_power: str | None = None
    reference: str = ""  # the record it was written from
    issued_on: str = ""


def _struck(text: str, applies: bool) -> str:
    return text if applies else f"<strike>{text}</strike>"


def render(card: CardContent) -> bytes:
    """The card as a PDF (A4: the address side's texts above, the card's fourteen items below)."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Spacer

    if card.kind not in KINDS:
        raise ValueError(f"unknown card {card.kind}")
    tr = Bilingual(card.languages)
    st = styles()
    title, convention = TITLES[card.kind]
    story: list = [
        Paragraph(tr.markup(title, bold=True), st["title"]),
        Paragraph(tr.inline(convention), st["small"]),
        Spacer(1, 3 * mm),
    ]
    address = "<br/>".join(
        [
            tr.inline(MAIL[card.kind]) + " — " + tr.inline(N_("Postage free")),
            "<b>" + tr.inline(N_("Central Tracing Agency")) + "</b>",
            tr.inline(N_("International Committee of the Red Cross")),
            tr.inline(N_("Geneva, Switzerland")),
        ]
    )
    story.append(table([[Paragraph(address, st["base"])]], [178 * mm]))
    story.append(Spacer(1, 2 * mm))
    story.append(Paragraph(tr.markup(IMPORTANT[card.kind]), st["small"]))
    story.append(Spacer(1, 3 * mm))

    items = CAPTURE_ITEMS if card.kind == "capture" else INTERNMENT_ITEMS
    rows = []
    for n, (key, label) in enumerate(items, 1):
        if key == "since":
            held_on, came_from = SINCE[card.kind]
            cell = "<br/>".join(
                [_struck(tr.inline(held_on), not card.moved), _struck(tr.inline(came_from), card.moved)]
            )
        else:
            cell = tr.markup(label)
        rows.append([Paragraph(f"{n}.", st["base"]), Paragraph(cell, st["base"]), _value(card, key, tr, st)])
    story.append(table(rows, [9 * mm, 72 * mm, 97 * mm]))
    story.append(Spacer(1, 3 * mm))
    footer = [
        tr.inline(N_("Detaining power")) + ": " + value(card.detaining_power),
        tr.inline(
            N_("Written by %(bureau)s on %(date)s from its record %(reference)s."),
            bureau=card.bureau,
            date=card.issued_on,
            reference=card.reference,
        ),
    ]
    story.append(Paragraph("<br/>".join(footer), st["small"]))
    return build(story, title, card.bureau)


def _value(card: CardContent, key: str, tr: Bilingual, st: dict):  # type: ignore[no-untyped-def]
    from reportlab.platypus import Paragraph

    if key == "health" and card.kind == "capture":
        # The model lists every state; all but the prisoner's are struck out.
        lines = [
            _struck(tr.inline(label), state == card.health_state)
            + (" ✓" if state == card.health_state else "")
            for state, label in HEALTH_LABELS.items()
        ]
        if card.health_state is None:
            lines = [tr.inline(label) for label in HEALTH_LABELS.values()]
        return Paragraph("<br/>".join(lines), st["base"])
    if key == "health":
        label = HEALTH_LABELS.get(card.health_state or "")
        return Paragraph(tr.inline(label) if label else value(None), st["base"])
    if key == "present_address":
        text = "<br/>".join(
            [
                tr.inline(NUMBER[card.kind]) + ": " + value(card.number),
                tr.inline(PLACE[card.kind]) + ": " + value(card.place),
            ]
        )
        return Paragraph(text, st["base"])
    if key == "signature":
        return Paragraph("&nbsp;<br/>&nbsp;", st["base"])
    return Paragraph(value(card.values.get(key)), st["base"])
