"""Per-language cue words: statuses, roles, speech, military nouns, ranks, units, ages, home regions.

Patterns are matched on the lower-cased sentence (case-sensitive ones say so). Order matters inside each
status list: earlier patterns claim their words first ("сдался в плен" is a surrender before "плен" can
be read as captured; "ждёт обмена" is still captive before "обмен" can be read as released).
"""

from __future__ import annotations

import re
from functools import lru_cache

# Status cue patterns, (status, regex). "captive" means still held: it reads as captured.
STATUS_PATTERNS: dict[str, list[tuple[str, str]]] = {
    "en": [
        ("captured", r"await\w* (?:an? |the )?(?:exchange|swap|release)|to be (?:exchanged|swapped|released)"
                     r"|(?:list|fund) for (?:an? )?exchange"),
        ("surrendered", r"surrender\w*|gave (?:himself|themselves) up|laid down (?:his|their) (?:arms"
                        r"|weapons)"),
        ("released", r"released|freed|exchanged|(?:prisoner )?(?:swap|exchange)\b|returned home|repatriated"
                     r"|back home from captivity"),
        ("killed", r"killed|died|dead\b|death of|lost (?:his|her|their) lives?|fell in (?:battle|action)"
                   r"|\bkia\b|bod(?:y|ies) of|eliminated|liquidated|perished|funeral|buried"),
        ("missing", r"missing|unaccounted for|\bmia\b|lost contact|disappeared|whereabouts (?:are|is|remain)"
                    r" unknown|(?:has|have|had) not been heard from"),
        ("captured", r"captur\w*|prisoners? of war|\bpows?\b|taken prisoner|in captivity|held captive|captive"
                     r"|prisoner"),
        ("wounded", r"wounded|injured"),
    ],
    "ro": [
        ("captured", r"(?:așteaptă|asteapta|în așteptarea|in asteptarea) (?:unui |un )?schimb\w*"
                     r"|(?:va|vor) fi (?:eliberat|schimbat)\w*|mă vor elibera"),
        ("surrendered", r"s-(?:a|au) predat|(?:a|au) depus armele"),
        ("released", r"elibera[tț]\w*|schimb(?:ul)? de prizonieri|(?:a|au) fost schimbați|(?:s-a"
                     r"|s-au) întors acasă"
                     r"|returna[tț]\w* acasă|repatria[tț]\w*"),
        ("killed", r"uci[sș]\w*|omor[âa][tț]\w*|(?:a|au) murit|deceda[tț]\w*|decesul\w*"
                   r"|(?:și|si)-(?:a|au) pierdut viața|căzut\w* (?:la datorie|în luptă)|lichida[tț]\w*"
                   r"|\bmor(?:t|ți|ții|tul)\b|cadavr\w*"
                   r"|corpul neînsuflețit|înmormânt\w*"),
        ("missing", r"dispăru\w*|disparu\w*|de negăsit|nu mai (?:dau|dăm|știu|știm|avem) (?:de|nimic|vești)"
                    r"|fără urmă"
                    r"|nu (?:mai )?(?:dă|dau|a dat|au dat)\w* (?:niciun |nici un )?semn\w* de via[țt][ăa]"),
        ("captured", r"captur\w*|prizonier\w*|în captivitate|lua[tț]\w* ostatic\w*"),
        ("wounded", r"răni[tț]\w*|rani[tț]\w*"),
    ],
    "ru": [
        # "вернулся на щите" (came home on his shield): killed, before "вернулся" reads as released.
        ("killed", r"(?:вернул\w*|верн[её]тся|привезли)(?: домой)? на щите|на щите (?:вернул\w*|домой)"),
        ("captured", r"(?:ждёт|ждет|ждут|ожида\w*) обмен\w*|(?:на|для) обмен\w*|обменн\w+ фонд\w*"),
        ("surrendered", r"сдал(?:ся|ись|ась)(?: в плен)?|сда(?:ются|ваться|ётся|ется) в плен"
                        r"|слож(?:ил|или)\w* оружие"),
        ("released", r"обмен\w* (?:военно)?пленн\w*|освобо[жд]\w*|обменя\w*|обмен\w*"
                     r"|вернул\w* (?:домой|из плена|на родину)|домой вернул\w*|репатри\w*"
                     r"|вернул(?:ся|ись|ась)(?! (?:в часть|на фронт|с фронта|в строй|к службе))"),
        ("killed", r"погиб\w*|убит\w*|уничтож\w*|ликвидир\w*|скончал\w*|гибел\w*|\bтело\b|\bтела\b|останки"
                   r"|похорон\w*|груз[ -]?200|двухсот\w*"),
        ("missing", r"(?:пропал|пропав)\w* без ?вести|безвест\w*|без вести|пропал\w*|не выход\w* на связь"
                    r"|связь (?:с ним |с ней )?(?:потеряна|пропала)|разыскива\w*|\bищем\b|розыск\w*"),
        ("captured", r"(?:военно)?плен\w*|захвачен\w*"),
        ("wounded", r"ранен\w*"),
    ],
    "uk": [
        # "повернувся на щиті" (came home on his shield): killed, before "повернувся" reads as released.
        ("killed", r"(?:поверну\w*|привезли)(?: додому)? на щиті|на щиті (?:поверну\w*|додому)(?: додому)?"),
        ("captured", r"(?:чека\w*|очіку\w*) (?:на )?обмін\w*|(?:на|для) обмін\w*|обмінн\w+ фонд\w*"),
        ("surrendered", r"зда(?:вся|лася|лись|лися|ються|ється|ватися|ватись|вались|валися)(?: (?:у"
                        r"|в) полон)?"
                        r"|склал?\w* зброю"),
        ("released", r"обмін\w* (?:військово)?полонен\w*|звільн\w*|обмін\w*|обміня\w*"
                     r"|поверну\w* (?:додому|з полону|на батьківщину)|додому поверну\w*|репатрі\w*"
                     r"|повернув(?:ся|ись|ася|ися|лися)(?! (?:до частини|на фронт|з фронту|у стрій"
                     r"|в стрій))"),
        ("killed", r"загин\w*|загибл\w*|загибел\w*|вбит\w*|убит\w*|знищен\w*|ліквідов\w*|помер\w*|поліг\w*"
                   r"|\bтіло\b"
                   r"|\bтіла\b|останки|похов\w*|вантаж[ -]?200|двохсот\w*"),
        ("missing", r"зник\w* безвісти|безвіст\w*|безвісн\w*|пропа\w* безвісти"
                    r"|не вихо\w* на зв['’ʼ]язок|зв['’ʼ]язок (?:з ним |з нею )?(?:втрачено|зник)"
                    r"|розшук\w*|шукаємо"),
        ("captured", r"(?:військово)?полон\w*|захоплен\w*"),
        ("wounded", r"поранен\w*"),
    ],
}  # fmt: skip

# Names of institutions that contain status words; they are claimed first so the words report nothing.
NEUTRAL_PATTERNS: dict[str, str] = {
    "en": r"(?:coordination )?headquarters for the treatment of prisoners of war"
          r"|treatment of prisoners of war|(?:commissioner|office|commission|bureau) for (?:the )?missing"
          r"(?: persons)?",
    "ro": r"(?:biroul|comisia|comisiei|biroului) pentru (?:persoanele )?dispărute",
    "ru": r"по (?:делам|вопросам) (?:военнопленных|пропавших без вести|интернированных)"
          r"|обращени\w+ с военнопленными",
    "uk": r"(?:з питань )?поводження з військовополоненими|у справах (?:військово)?полонених"
          r"|(?:з питань )?(?:осіб, )?зниклих безвісти за особливих обставин",
}  # fmt: skip

# Words that, right before a status cue, negate it.
NEGATIONS = {"not", "never", "nu", "не", "ні", "нет", "ни"}
# "former mayor", "fostul primar", "бывший мэр", "колишній голова": an office no longer held. A former
# official reports on nobody by office; what happens to him is news about a private person.
FORMER = {"former", "ex", "fostul", "fosta", "fostului", "fostei", "foști", "fost", "бывший", "бывшего",
          "бывшему", "бывшим", "бывшем", "бывшая", "бывшей", "экс", "колишній", "колишнього",
          "колишньому", "колишнім", "колишня", "колишньої", "екс"}  # fmt: skip
FORMER_PREFIXES = ("ex-", "экс-", "екс-")

ROLE_PATTERNS: dict[str, list[tuple[str, str]]] = {
    "en": [
        ("spokesperson", r"spokes(?:man|woman|person)|press secretary"),
        ("official", r"minister|president|commander-in-chief|governor|mayor|advis[eo]r|ombudsman|official|mp"
                     r"|secretary|chancellor|ambassador|senator|spokes\w+|envoy"
                     r"|head of|chief of|deputy|lawmaker|prosecutor|general staff|commissioner"),
        ("journalist", r"(?:photo)?journalist|reporter|correspondent|blogger|editor|photographer"),
        ("relative", r"mother|father|sister|brother|wife|husband|daughter|son|grandmother|grandfather|aunt"
                     r"|uncle|cousin|relative|fianc[ée]e?|girlfriend|mum|mom|dad|parents"),
    ],
    "ro": [
        ("spokesperson", r"purt[ăa]to\w* de cuv[âa]nt"),
        ("official", r"ministr\w*|pre[șs]edint\w*|comandant\w*-[șs]ef\w*|guvernator\w*|primar\w*"
                     r"|consilier\w*|[șs]eful\w*|deputat\w*|procuror\w*|ombudsman\w*|avocatul poporului"
                     r"|oficial\w*|comisar\w*"),
        ("journalist", r"jurnalist\w*|reporter\w*|corespondent\w*|blogger\w*|fotograf\w*"),
        ("relative", r"mam[aăe]\b|mama\w*|tat[ăa]l\w*|sor[ăa]\b|sora\b|fratel\w*|so[țt]i[ae]\w*|so[țt]ul\w*"
                     r"|fiica\w*|fiul\w*|bunic\w*|mătu[șs]\w*|unchiul\w*|veri[șs]\w*|rud[ae]\w*|logodnic\w*"
                     r"|p[ăa]rin[țt]i\w*"),
    ],
    "ru": [
        ("spokesperson", r"пресс-секретар\w*|официальн\w+ представител\w*|представител\w*|спикер\w*"),
        ("official", r"министр\w*|президент\w*|главнокомандующ\w*|губернатор\w*|\bмэр\w*|\bглав[аыеу]\b"
                     r"|советник\w*|омбудсмен\w*|уполномоченн\w*|депутат\w*|прокурор\w*|командующ\w*"
                     r"|начальник\w* генштаба|замминистр\w*"
                     r"|начальник\w*(?= (?:\w+ ){0,3}(?:администрации|управления))"),
        ("journalist", r"журналист\w*|корреспондент\w*|военкор\w*|блогер\w*|редактор\w*|фотограф\w*"),
        ("relative", r"\bмат(?:ь|ери)\b|\bмам[аыуе]\b|\bот(?:ец|ца)\b|\bсестр[аыуе]\b|\bбрат[аму]?\b"
                     r"|\bжен[аыуе]\b|\bмуж[ау]?\b|\bдоч(?:ь|ери)\b|\bсын[ау]?\b|бабушк\w*|дедушк\w*"
                     r"|\bт[её]т[яи]\b"
                     r"|\bдяд[яи]\b|родственни\w*|невест\w*|родител\w*|супруг\w*"),
    ],
    "uk": [
        ("spokesperson", r"речни\w*|пре[сc]-?секретар\w*|спікер\w*|представни\w*"),
        ("official", r"міністр\w*|президент\w*|головнокомандувач\w*|губернатор\w*|\bмер\b|\bмера\b"
                     r"|\bголов[аи]\b"
                     r"|очільни\w*|радни\w*|омбудсман\w*|уповноважен\w*|депутат\w*|прокурор\w*|командувач\w*"
                     r"|начальни\w* генштабу|начальни\w*(?= (?:\w+ ){0,3}(?:адміністрації|ова|управління))"),
        ("journalist", r"журналіст\w*|кореспондент\w*|(?:військ|воєн)кор\w*|блогер\w*|редактор\w*"
                       r"|фотограф\w*"),
        ("relative", r"\bмат(?:и|ір|ері)\b|\bмам[аиуі]\b|\bбатьк[оау]\b|\bсестр[аиуі]\b|\bбрат[аові]?\b"
                     r"|\bдружин[аиі]\b|\bчоловік\b|\bдо(?:нька|чка|ньки|чки)\b|\bсин[аові]?\b|бабус\w*"
                     r"|дідус\w*"
                     r"|\bтітк[аи]\b|\bдядьк[оа]\b|родич\w*|наречен\w*|батьки\b"),
    ],
}  # fmt: skip

SPEECH_PATTERNS: dict[str, str] = {
    "en": r"said|says|saying|told|tells|wrote|writes|stated|announced|added|claimed|explained|commented"
          r"|confirmed|posted|reported|according to|tweeted|noted",
    "ro": r"a spus|au spus|a declarat|au declarat|a afirmat|a scris|a anunțat|a anuntat|a precizat"
          r"|a adăugat|a explicat|a transmis|a confirmat|a comentat|spune|declară|potrivit|conform"
          r"|susține|a relatat|a povestit|povestește|a mărturisit",
    "ru": r"сказал\w*|заявил\w*|сообщил\w*|сообщив|написал\w*|рассказал\w*|пояснил\w*|добавил\w*"
          r"|отметил\w*|подчеркнул\w*|прокомментировал\w*|подтвердил\w*|уточнил\w*|объявил\w*"
          r"|по (?:его |её |ее |их )?словам|говорит|рассказывает|пишет|передает|передаёт",
    "uk": r"сказав\w*|заяви\w*|повідоми\w*|написа\w*|розповів\w*|розповіла|поясни\w*|дода\w*"
          r"|зазначи\w*|наголоси\w*|прокоментува\w*|підтверди\w*|оголоси\w*"
          r"|за (?:його |її |їхніми )?словами|каже|говорить"
          r"|розповідає|пише",
}  # fmt: skip

# "According to X" style: the person after these words is a source, not a subject.
SOURCE_BEFORE = {"en": r"according to", "ro": r"potrivit|conform|după cum a spus",
                 "ru": r"по словам|по данным"
                       r"|как сообщил\w*", "uk": r"за словами|за даними|як повідоми\w*"}  # fmt: skip

MILITARY_PATTERNS: dict[str, str] = {
    "en": r"soldiers?|servicem[ae]n|troops?|marines?|paratroopers?|officers?|pilots?|snipers?|fighters?"
          r"|conscripts?|mercenar(?:y|ies)|commanders?|gunners?|sailors?|volunteers?|defenders?|privates?",
    "ro": r"solda[tț]\w*|militar\w*|ofi[țt]er\w*|pilot\w*|lunetist\w*|lupt[ăa]tor\w*|mercenar\w*|recru[țt]\w*"
          r"|para[șs]utist\w*|voluntar\w*|comandant\w*|pu[șs]ca[șs]\w*|trup[ae]\w*",
    "ru": r"военн\w*|военнослужащ\w*|солдат\w*|бо(?:ец|йц)\w*|офицер\w*|пилот\w*|л[её]тчик\w*|снайпер\w*"
          r"|контрактник\w*|срочник\w*|мобилизованн\w*|наемник\w*|наёмник\w*|десантник\w*|морпех\w*"
          r"|танкист\w*|командир\w*|оккупант\w*|защитник\w*|артиллерист\w*|разведчик\w*",
    "uk": r"військов\w*|військовослужбов\w*|солдат\w*|бо(?:єць|йц)\w*|офіцер\w*|пілот\w*|льотчик\w*"
          r"|снайпер\w*|контрактник\w*|строковик\w*|мобілізован\w*|найман\w*|десантник\w*|морпіх\w*"
          r"|танкіст\w*|командир\w*|окупант\w*|захисник\w*|оборонц\w*|артилерист\w*|розвідник\w*",
}  # fmt: skip

RANK_PATTERNS: dict[str, str] = {
    # Abbreviations are case-sensitive ("Col.", never "col"); rank_name() spells them out.
    "en": r"(?-i:(?:(?:Jr|Sr|Staff|Master|1st|First)\.? )?(?:Sgt|SGT|Pvt|PVT|Cpl|CPL|Lt|LT|Capt|Maj|Col|Gen)"
          r"(?:\.|(?= )))(?: Col\.)?"
          r"|(?:junior |senior |staff |master |lance |first |second |sergeant |lieutenant |brigadier "
          r"|major )?(?:private|corporal|sergeant|lieutenant|captain|major|colonel|general|ensign"
          r"|warrant officer|petty officer|seaman)\b"
          r"|commander of (?:a |the |an )?[\w-]+(?: [\w-]+)? (?:unit|platoon|company|squad|battalion|brigade"
          r"|regiment|division|crew|battery|group|detachment)",
    "ro": r"(?:sub)?locotenent\w*(?:[- ](?:major|colonel))?|c[ăa]pitan\w*|maior\w*|colonel\w*|general\w*"
          r"|sergent\w*(?: major)?|plutonier\w*|caporal\w*|frunta[șs]\w*"
          r"|comandant(?:ul)? (?:unei |al unei |al )?[\w-]+(?: [\w-]+)? (?:de )?(?:unit[ăa][țt]i|pluton"
          r"|companii"
          r"|batalion|brig[ăa]zi|regiment)\w*",
    "ru": r"(?:гвардии )?(?:(?:младш|старш)\w+ )?(?:сержант|лейтенант|прапорщик|матрос|мичман)\w*"
          r"|(?:гвардии )?(?:ефрейтор|рядов|старшин|капитан|майор|подполковник|полковник|генерал)\w*"
          r"(?:-(?:лейтенант|майор|полковник)\w*)?(?: \d ранга)?"
          r"|командир\w* (?:взвода|роты|отделения|батальона|бригады|полка|танка|экипажа|расчета|расчёта"
          r"|группы|батареи|разведвзвода)",
    "uk": r"(?:(?:молодш|старш|головн)\w+ )?(?:сержант|лейтенант|прапорщик|матрос|мічман)\w*"
          r"|(?:штаб|майстер)-сержант\w*|старш\w+ солдат\w*|солдат(?:а|ом|ові|у)?"
          r"|(?:гвардії )?(?:єфрейтор|рядов|старшин|капітан|майор|підполковник|полковник|генерал)\w*"
          r"(?:-(?:лейтенант|майор|полковник)\w*)?"
          r"|командир\w* (?:взводу|роти|відділення|батальйону|бригади|полку|танка|екіпажу|розрахунку"
          r"|групи|батареї)",
}  # fmt: skip

UNIT_NOUNS = {
    "ru": r"бригад|полк|дивизи|батальон|рот[аыуе]|взвод|арми[яи]|корпус|отряд|эскадрил|дивизион|флот|бригад",
    "uk": r"бригад|полк|дивізі|батальйон|рот[аиуі]|взвод|армі[яї]|корпус|загін|загону|ескадрил|дивізіон|флот",
}
# "24-та окрема механізована бригада імені короля Данила": the patron's name belongs to the unit.
UNIT_PATRON = {
    "ru": r"\s+имени(?:\s+(?-i:[а-яё-]+)){0,3}(?:\s+(?-i:[А-ЯЁ][\w-]+)){1,3}",
    "uk": r"\s+імені(?:\s+(?-i:[а-яіїєґ'’-]+)){0,3}(?:\s+(?-i:[А-ЯІЇЄҐ][\w'’-]+)){1,3}",
}
UNIT_PATTERNS: dict[str, str] = {
    "ru": rf"\b\d{{1,4}}\s*[-–]?\s*(?:[а-я]{{1,3}}\b)?(?:\s+[а-яё-]+){{0,5}}?\s+(?:{UNIT_NOUNS['ru']})\w*"
          r"(?:\s+(?:морской пехоты|вдв|специального назначения|спецназа|мотострелков\w*|ракетных войск))?"
          rf"(?:{UNIT_PATRON['ru']})?"
          r"|в/ч\s*\d{3,6}|войсков\w+ част\w+\s*\d{3,6}",
    "uk": rf"\b\d{{1,4}}\s*[-–]?\s*(?:[а-яіїє]{{1,3}}\b)?(?:\s+[а-яіїєґ'’-]+){{0,5}}?"
          rf"\s+(?:{UNIT_NOUNS['uk']})\w*"
          r"(?:\s+(?:морської піхоти|вдв|спеціального призначення|тро|теробор\w*))?"
          rf"(?:{UNIT_PATRON['uk']})?"
          r"|в/ч\s*[аa]?\d{3,6}|військов\w+ частин\w+\s*[аa]?\d{3,6}",
    "en": r"\b\d{1,4}(?:st|nd|rd|th)?\s+(?:[A-Z][\w-]+\s+){0,4}(?:Brigade|Regiment|Division|Battalion"
          r"|Army|Corps"
          r"|Company|Squadron|Flotilla|Detachment)\b|\bWagner\b(?: Group| PMC)?",
    "ro": r"(?:brigad[ae]|regimentul|divizi[ae]|batalionul|armata|corpul)\s+(?:a\s+)?\d{1,4}(?:-a|-lea)?"
          r"(?:\s+[\w-]+){0,3}|\b\d{1,4}(?:-a|-lea)?\s+(?:brigad[ăa]|regiment|divizie"
          r"|batalion)\w*(?:\s+[\w-]+){0,3}",
}  # fmt: skip
UNIT_CASE_SENSITIVE = {"en"}

_RANK_ABBREVIATIONS = {"jr": "junior", "sr": "senior", "1st": "first", "sgt": "sergeant", "pvt": "private",
                       "cpl": "corporal", "lt": "lieutenant", "capt": "captain", "maj": "major",
                       "col": "colonel", "gen": "general"}  # fmt: skip


def rank_name(text: str) -> str:
    """'Jr. Sgt.' -> 'junior sergeant', 'Lt. Col.' -> 'lieutenant colonel'; other ranks lower-cased."""
    words = [w.rstrip(".").lower() for w in text.split()]
    return " ".join(_RANK_ABBREVIATIONS.get(w, w) for w in words)


AGE_PATTERNS: dict[str, list[str]] = {
    "en": [r"(\d{1,2})[- ]years?[- ]old", r"aged (\d{1,2})\b", r"(\d{1,2}) years old"],
    "ro": [r"(?:în|in) v[âa]rst[ăa] de (\d{1,2})(?: de)? ani", r"\b(\d{1,2}) de ani\b", r"\b(\d{1,2}) ani\b"],
    "ru": [r"в возрасте (\d{1,2})", r"\b(\d{1,2})[- ]летн\w+", r"\b(\d{1,2})\s*(?:лет|года|год)\b"],
    "uk": [r"у віці (\d{1,2})", r"\b(\d{1,2})[- ]річн\w+", r"\b(\d{1,2})\s*(?:років|роки|рік)\b"],
}
# ", 28," right after a name (English and Romanian news style), also ending a list item ("A, 22; B, 35")
# or a caption ("Vitaliy Honchar, 30 — wounded").
AGE_AFTER_NAME = re.compile(r"^\s*(?:\([^()]{1,40}\)\s*)?[,(]\s*(\d{2})\s*(?:[,);:]|\.(?:\s|$)|\s[—–-]\s|$)")

_LIFE_SPAN = (
    r"\(\s*(?:\d{1,2}[./]\d{1,2}[./])?((?:19|20)\d{2})"
    r"(?=\s*[–—-]\s*(?:\d{1,2}[./]\d{1,2}[./])?(?:19|20)\d{2}\s*\))"
)
BIRTH_PATTERNS: dict[str, list[str]] = {
    "en": [r"born (?:in |on )?(?:\d{1,2} \w+ |\w+ \d{1,2},? )?((?:19|20)\d{2})", r"\bb\. ((?:19|20)\d{2})",
           _LIFE_SPAN],
    "ro": [r"n[ăa]scut\w* (?:[îi]n |la )?(?:\d{1,2} \w+ |\d{1,2}\.\d{1,2}\.)?((?:19|20)\d{2})", _LIFE_SPAN],
    "ru": [r"((?:19|20)\d{2})\s*(?:г\.?\s*р\.?|года рождения|г\. рождения)",
           r"(?:родил\w*|рождения)\s+(?:в\s+)?(?:\d{1,2}\.\d{1,2}\.)?((?:19|20)\d{2})", _LIFE_SPAN],
    "uk": [r"((?:19|20)\d{2})\s*(?:р\.?\s*н\.?|року народження)",
           r"(?:народи\w*|народження)\s+(?:у\s+|в\s+)?(?:\d{1,2}\.\d{1,2}\.)?((?:19|20)\d{2})", _LIFE_SPAN],
}  # fmt: skip

HOME_PATTERNS: dict[str, list[str]] = {
    # group 1 = the region or town as written
    "en": [r"(?:from|based in|native of|resident of) (?:the )?([A-Z][\w-]+ (?:region|oblast|province"
           r"|krai|republic))",
           r"(?:native of|resident of|hails from|from the (?:city|town|village) of) ([A-Z][\w-]+)",
           r"(?:his|her) (?:home ?town|native (?:town|city|village))(?: of)?,? ([A-Z][\w-]+)",
           r", from ([A-Z][\w-]+(?: [A-Z][\w-]+)?)(?=,)"],
    "ro": [r"(?:din|originar din|de loc din|locuitor din) (regiunea [A-ZĂÂÎȘȚ][\w-]+)",
           r"(?:originar din|de loc din|locuitor din) ([A-ZĂÂÎȘȚ][\w-]+)",
           r"(?:^|, )din ([A-ZĂÂÎȘȚ][\w-]+)(?=\s*[,;.]|\s*$)",
           r"(?:ora[șs]ul|satul|localitatea|comuna) (?:său |sa )?natal[ăa]?,? ([A-ZĂÂÎȘȚ][\w-]+)"],
    "ru": [r"([А-ЯЁ][а-яё-]+(?:ская|цкая|ской|цкой|скую|ская)\s+област\w*)",
           r"([А-ЯЁ][а-яё-]+(?:ский|цкий|ского|цкого|ском)\s+кра[йяюе])",
           r"(?:уроженец|уроженка|житель|жительница|родом из)\s+"
           r"((?-i:[А-ЯЁ])[\w-]+(?:\s+(?-i:[А-ЯЁ])[\w-]+)?)",
           # a prisoner's card: "Галиев Рустам, 1994 г.р., Татарстан, 30-я бригада"
           r"(?:г\.\s?р\.|года рождения)\s*,\s*(?:г\.\s*)?([А-ЯЁ][а-яё-]+(?:\s+(?:область|край))?)"
           r"(?=\s*[,.;]|\s*$)"],
    "uk": [r"([А-ЯІЇЄҐ][а-яіїєґ'’-]+(?:ська|цька|ської|цької|ську|ській)\s+област\w*)",
           r"([А-ЯІЇЄҐ][а-яіїєґ'’-]+(?:ський|цький|ського|цького)\s+кра[йюя])",
           r"(?:уродженець|уродженка|мешканець|мешканка|житель|родом з)\s+((?-i:[А-ЯІЇЄҐ])[\w'’-]+)",
           r"(?:р\.\s?н\.|року народження)\s*,\s*(?:м\.\s*|с\.\s*)?"
           r"([А-ЯІЇЄҐ][а-яіїєґ'’-]+(?:\s+(?:область|край))?)(?=\s*[,.;]|\s*$)"],
}  # fmt: skip

# A region after these is where the event happened ("попал в плен в Курской области"), not home.
HOME_NOT_AFTER: dict[str, str] = {
    "ru": r"(?:^|\s)(?:в|во|на|под|около|возле|по|через)\s+$",
    "uk": r"(?:^|\s)(?:в|у|на|під|біля|поблизу|по|через)\s+$",
}
# Right after a person's name: "Тарас Левчук из Тернополя", "Callum Reid, 24, from Fife", "Ion, din Soroca".
HOME_AFTER_NAME: dict[str, str] = {
    "ru": r"^\s*,?\s*(?:из|родом из)\s+([А-ЯЁ][а-яё-]+)",
    "uk": r"^\s*,?\s*(?:із|з|родом з)\s+([А-ЯІЇЄҐ][а-яіїєґ'’-]+)",
    "en": r"^(?:\s*,\s*\d{1,2})?\s*,?\s*(?:from|of) ([A-Z][\w-]+)(?!\w*'s)",
    "ro": r"^(?:\s*,\s*\d{1,2}(?: de)? ani)?\s*,?\s*din\s+([A-ZĂÂÎȘȚ][\w-]+)",
}

# A sentence opening with these continues the previous one's report ("Серед них — матрос ...").
ANAPHORIC_OPENERS: dict[str, str] = {
    "en": r"among them|including|they include|one of them",
    "ro": r"printre (?:ei|aceștia|acestia|care)|inclusiv|între aceștia|unul dintre (?:ei|aceștia|acestia)",
    "ru": r"среди них|в их числе|в том числе|(?:один|одна|одного) из них",
    "uk": r"серед них|у тому числі|в тому числі|зокрема|(?:один|одна|одного) з них",
}
PRONOUN_OPENERS = {"he", "his", "she", "el", "ea", "он", "ему", "его", "она", "ей", "він", "йому", "його",
                   "вона", "їй"}  # fmt: skip

# Place of the event: a preposition of location and a capitalised word or two.
PLACE_PATTERNS: dict[str, str] = {
    "en": r"(?:near|outside|in the area of|around|in the) ((?:[A-Z][\w'-]+)(?: (?:region|oblast|area))?)",
    "ro": r"(?:l[âa]ng[ăa]|[îi]n apropiere de|[îi]n zona|la periferia|[îi]n) ((?:regiunea )[A-ZĂÂÎȘȚ][\w-]+)"
          r"|(?:l[âa]ng[ăa]|[îi]n apropiere de|[îi]n zona|la periferia) ([A-ZĂÂÎȘȚ][\w-]+)",
    "ru": r"(?:под|возле|около|в районе|близ|у) ([А-ЯЁ][\w-]+)",
    "uk": r"(?:під|біля|поблизу|в районі|у районі|неподалік) ([А-ЯІЇЄҐ][\w'’-]+)",
}  # fmt: skip

MEDIA_PATTERNS: list[tuple[str, str]] = [
    ("video", r"video\w*|відео\w*|видео\w*|footage"),
    ("photo", r"photo\w*|fotografi\w*|\bfoto\b|фото\w*|світлин\w*"),
    ("telegram", r"telegram\w*|телеграм\w*"),
    ("facebook", r"facebook|фейсбук\w*"),
    ("interrogation", r"interrogat\w*|interogat\w*|допрос\w*|допит\w*"),
]

# Capitalised words that are never part of a person's name in Latin-script text.
_LATIN_STOP_WORDS = """
the a an in on at of and or but for from to by with as after before during while this that these those
his her their its it he she they we our my your one two mr mrs ms dr st mount ministry ministerul
minister president guvernul government army armata forces forțele war world ukraine ucraina ukrainian
ucrainean ucraineni russia rusia russian rus ruși rusă kremlin moscow moscova kyiv kiev kiew kharkiv
harkov kherson herson donetsk donețk luhansk lugansk mariupol crimea crimeea rostov belgorod kursk
bryansk bakhmut chernihiv cernihiv sumy odesa odessa lviv zaporizhzhia zaporojie mykolaiv avdiivka izium
kupiansk europe europa nato un telegram facebook twitter youtube instagram vk daily mail guardian bbc
reuters cnn sunday monday tuesday wednesday thursday friday saturday january february march april may
june july august september october november december oblast region republic luni marți miercuri joi
vineri sâmbătă duminică find your own alo bună mama general major colonel captain lieutenant sergeant
corporal private soldier soldatul senior junior staff master lance chief warrant officer petty brigadier
guards commander first second national guard sgt pvt cpl lt capt maj col gen jr sr mp
moldova republicii republica republic statul stat georgian armenian romanian moldovan moldavian canadian
australian american british italian brazilian colombian belarusian chechen estonian latvian
lithuanian polish czech german french danish swedish norwegian finnish dutch spanish portuguese
legion legiunea brigade battalion regiment division corps headquarters staff ministry office department
committee council service agency commission bureau court parliament senate congress
"""
# Head nouns of names that are places or institutions, even when they honour a person ("Taras Shevchenko
# Boulevard", "Ordinul Ștefan cel Mare"): a capitalised run that holds one is not a person.
_LATIN_PLACE_NOUNS = """
street avenue boulevard square park bridge school university hospital airport station prospect lane road
highway stadium museum academy institute strada bulevardul bulevard piața piata parcul școala scoala
liceul spitalul universitatea aeroportul ordinul ordinului
"""
LATIN_PLACE_NOUNS = frozenset(_LATIN_PLACE_NOUNS.split())
# The word before a name that makes it the name of a street, school or award, or in ro/en of a town
# ("orașului Nova Kahovka", "the village of Stepove"), not of a person. (In ru/uk a town's name is known
# to the dictionary, and "глава поселка Андрей Ляшко" names the man after the town noun.)
NAMED_AFTER: dict[str, str] = {
    "ru": r"(?:имени|им\.|улиц[аеуы]|проспект[аеу]?|площад[иь]|переул\w+|бульвар[аеу]?|орден[аеу]?"
          r"|медал[иь])\s*",
    "uk": r"(?:імені|ім\.|вулиц[яіює]|проспект[іу]?|площ[аіу]|сквер[іу]?|провул\w+|бульвар[іу]?|орден[ау]?"
          r"|медал[іь])\s*",
    "en": r"(?:named after|named for|order of|(?:city|town|village|region|district|settlement) of)\s*",
    "ro": r"(?:strada|străzii|bulevardul|ordinul|ordinului|școala|liceul|medalia|ora[șs]ul(?:ui)?"
          r"|satul(?:ui)?|comun(?:a|ei)|municipiul(?:ui)?|localit[ăa](?:tea|[țt]ii))\s*[„\"«]?\s*",
}  # fmt: skip
LATIN_STOP = frozenset(_LATIN_STOP_WORDS.split())

PUBLIC_FIGURES = {
    # Surnames (folded, Latin and Cyrillic) of officials often quoted; never sightings on their own.
    "zelensky", "zelenskyy", "zelenskiy", "zelenski", "putin", "shoigu", "soigu", "zaluzhny", "zaluzhnyi",
    "zalujnii", "konashenkov", "konasenkov", "lubinets", "budanov", "peskov", "lavrov", "syrskyi",
    "gerasimov", "kadyrov", "kuleba", "reznikov", "umerov", "yusov", "moskalkova", "lukashenko",
    "зеленский", "зеленський", "путин", "путін", "шойгу", "залужный", "залужний", "конашенков",
    "лубинец", "лубінець", "буданов", "песков", "лавров", "сырский", "сирський", "герасимов", "кадыров",
    "кулеба", "резников", "резніков", "умеров", "юсов", "москалькова",
}  # fmt: skip


@lru_cache(maxsize=16)
def compiled_tail(pattern: str) -> re.Pattern[str]:
    """A pattern that must end the text it is searched in (the words right before a name)."""
    return re.compile(rf"(?<![\w-])(?:{pattern})$", re.IGNORECASE)


@lru_cache(maxsize=64)
def compiled(pattern: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """Word-bounded, compiled once."""
    return re.compile(rf"(?<![\w-])(?:{pattern})(?![\w])", flags)
