"""What the bot says: the questions of the request's conversation (the web form's fields, in its order,
with its labels) and the family's status, rendered from the domain's data in the chat's language.

Every text is an English msgid of the Babel catalogs (`message_id` marks the constants for `pybabel extract`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kinlink.errors import Problem
from kinlink.i18n import DEFAULT, LANGUAGES, translations
from kinlink.messages import message_id
from kinlink.tracing.family_access import FamilyView

Gettext = Callable[..., str]


def gettext(lang: str) -> Gettext:
    tr = translations(lang if lang in LANGUAGES else DEFAULT)

    def _(message: str, **values: Any) -> str:
        text = tr.gettext(message)
        return text % values if values else text

    return _


def language_of(code: str | None) -> str:
    """A Telegram client's language_code ('ru', 'uk', 'en-US', 'ro') as one of ours, else English."""
    lang = (code or "").lower().split("-")[0]
    return lang if lang in LANGUAGES else DEFAULT


@dataclass(frozen=True)
class Step:
    field: str
    label: str
    hint: str | None = None
    required: bool = False
    # Asked only when the answers so far call for it (the age only without a date of birth).
    when: Callable[[Mapping[str, Any]], bool] | None = None


DATE_HINT = message_id("YYYY, YYYY-MM, YYYY-MM-DD or DD.MM.YYYY")
STEPS = (
    Step("full_name", message_id("Full name"), message_id("The person you are looking for"), required=True),
    Step("other_names", message_id("Other spellings of the name"), message_id("Separate several with |")),
    Step("sex", message_id("Sex")),
    Step(
        "birth_date",
        message_id("Date of birth"),
        message_id("YYYY, YYYY-MM, YYYY-MM-DD or DD.MM.YYYY, or the years it may be: YYYY-YYYY"),
    ),
    Step(
        "age",
        message_id("Age"),
        message_id("If the date of birth is not known: the age, with the date it was true on"),
        when=lambda v: not v.get("birth_date"),
    ),
    Step("age_as_of", message_id("Age stated on"), DATE_HINT, when=lambda v: bool(v.get("age"))),
    Step("place_of_birth", message_id("Place of birth")),
    Step("rank", message_id("Rank")),
    Step("unit", message_id("Unit")),
    Step("service_number", message_id("Service number")),
    Step("capture_place", message_id("Where they were last seen or captured")),
    Step("capture_date", message_id("When"), DATE_HINT),
    Step("last_seen", message_id("Anything else that may help")),
    Step("enquirer_name", message_id("Your name"), message_id("About you"), required=True),
    Step("relationship", message_id("Your relationship to the person")),
    Step(
        "contact",
        message_id("Your email address or phone number"),
        message_id(
            "With an email address we send you the reference and the secret, and tell you when there is news."
        ),
    ),
)
BY_FIELD = {s.field: s for s in STEPS}
AGREEMENT = message_id(
    "I agree that this information is used to trace the person and is shared only with tracing staff."
)
LABELS = {**{s.field: s.label for s in STEPS}, "agree": message_id("Your agreement")}
SEX = {"m": message_id("male"), "f": message_id("female")}
SKIP = "-"


def question(step: Step, _: Gettext) -> str:
    text = f"{_(step.label)}"
    if step.hint:
        text += f"\n{_(step.hint)}"
    text += "\n" + (_("(required)") if step.required else _("(send - to skip)"))
    return text


def problem_lines(problems: list[Problem], _: Gettext) -> str:
    """The domain's refusals, each after the label of the field it names."""
    lines = []
    for p in problems:
        label = _(LABELS[p.field]) if p.field in LABELS else ""
        lines.append(f"⚠ {label}: {p.text(_)}" if label else f"⚠ {p.text(_)}")
    return "\n".join(lines)


def summary(values: Mapping[str, Any], _: Gettext) -> str:
    lines = [_("Please check your request:")]
    for step in STEPS:
        value = values.get(step.field)
        if value:
            shown = _(SEX[value]) if step.field == "sex" and value in SEX else value
            lines.append(f"• {_(step.label)}: {shown}")
    lines += ["", _(AGREEMENT)]
    return "\n".join(lines)


HEALTH = {
    "wounded": message_id("wounded"),
    "hospitalised": message_id("in hospital"),
    "seriously_ill": message_id("seriously ill"),
}
STATE = {
    "submitted": message_id("awaiting review"),
    "approved": message_id("approved, awaiting delivery"),
    "rejected": message_id("rejected"),
    "delivered": message_id("delivered"),
}


def status(view: FamilyView, _: Gettext) -> str:
    """What the family pages show, as a chat message: the outcome the domain allows, and the messages."""
    o, it = view.outcome, view.outcome.items
    lines = [f"{_('Your request')} {view.reference}", ""]
    if o.stage == "found":
        lines.append(
            {
                "held": _("The person you are looking for has been found. They are alive and held."),
                "released": _(
                    "The person you are looking for has been found. They are alive and no longer held."
                ),
            }.get(it.get("situation"), _("The person you are looking for has been found alive."))
        )
        if it.get("since"):
            since = {"held": _("Held since"), "released": _("No longer held since")}.get(
                it.get("situation"), _("Known to be alive on")
            )
            lines.append(f"{since}: {it['since']}")
        if "location" in it:
            lines.append(f"{_('Where they are now')}: {it['location'] or _('not known yet')}")
        if "health" in it:
            health = it["health"]
            shown = (
                f"{_(HEALTH.get(health['kind'], health['kind']))}"
                + (f" ({health['date']})" if health.get("date") else "")
                if health
                else _("no injury or illness recorded")
            )
            lines.append(f"{_('Health')}: {shown}")
        if it.get("photo"):  # photos are not sent into chats: the family pages show it
            lines.append(
                _("A photo of the person can be seen on the website, with your reference and secret.")
            )
        lines.append(_("You are told only what the person agreed to share."))
    elif o.stage == "dead":
        lines.append(_("We are very sorry. The person you are looking for has died."))
        if it.get("date"):
            lines.append(f"{_('Date')}: {it['date']}")
        if it.get("place"):
            lines.append(f"{_('Place')}: {it['place']}")
        lines.append(_("A caseworker will contact you."))
    elif o.stage == "death_reported":
        # Known only from open sources or a member of the public: a report, never a fact (as on the web).
        lines.append(
            _(
                "We have received a report that the person you are looking for may have died. It is under "
                "verification: it has not been confirmed."
            )
        )
        if it.get("date"):
            lines.append(f"{_('Date reported')}: {it['date']}")
        lines.append(
            _("We will tell you as soon as it is confirmed or disproved. A caseworker will contact you.")
        )
    elif o.stage == "closed":
        lines.append(_("Your request has been closed."))
    else:
        lines.append(_("Your request is being handled. We will tell you when there is news."))
        if not view.verified:
            lines.append(
                _(
                    "Before we can tell you more, a caseworker must confirm who you are and how you are "
                    "related to the person you are looking for. They will contact you."
                )
            )
    if view.messages:
        lines += ["", _("Messages")]
        for m in view.messages:
            who = _("You") if m.direction == "to_person" else _("The person you are looking for")
            lines.append(f"{who} ({_(STATE.get(m.state, m.state))}): {m.body}")
    if o.messages_allowed:
        lines += ["", _("Send /message to write to them: a caseworker reads every message first.")]
    return "\n".join(lines)


NOTICES = {
    "message_delivered": message_id("Your message about request %(reference)s has been delivered."),
    "message_received": message_id(
        "There is a message for you about request %(reference)s. Send /status to read it."
    ),
}
NEWS = message_id("There is news about your tracing request %(reference)s. Send /status to read it.")


def notice(kind: str, reference: str, _: Gettext) -> str:
    return _(NOTICES.get(kind, NEWS), reference=reference)
