"""Generate the embedded demo assembly: "Riverside climate assembly".

A synthetic town of five neighbourhoods. About 600 people signed up through a Google
Form; as in real recruitment, sign-ups are skewed: older, more educated and more
worried about climate change than the town, with young people and people without
qualifications scarce. Every name, address and phone number is invented (phones are in
Ofcom's 07700 900xxx drama range, emails at example.org). Some rows carry the mess real
forms produce: other spellings, a few unknown answers, empty cells, people who signed up
twice, and people who live at the same address.

Run from the repository root:  python data/demo/generate_demo.py
It writes signups.csv, fields.csv and targets.csv beside itself. The seed is fixed, so
the output is the same every time. (This is demo data: the standard library RNG is fine
here. The draw itself never uses a library RNG.)
"""

from __future__ import annotations

import csv
import random
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20260925
N_SIGNUPS = 600
CENSUS = "Riverside census 2021 (synthetic), tables TS007, TS008, TS021, TS038, TS067"
SURVEY = "Riverside residents' survey 2025 (synthetic)"

# field key, label, form question, [(value, label, aliases, population share, sign-up weight)]
FIELDS = [
    ("gender", "Gender", "Gender", [
        ("Woman", "Woman", ["female", "f", "women", "girl"], 0.510, 0.56),
        ("Man", "Man", ["male", "m", "men"], 0.480, 0.425),
        ("Non-binary or other", "Non-binary or other", ["nonbinary", "other", "nb", "genderqueer"], 0.010, 0.015),
    ]),
    ("age", "Age band", "Age", [
        ("16-24", "16 to 24", ["16 to 24", "16–24", "18-24"], 0.14, 0.05),
        ("25-34", "25 to 34", ["25 to 34", "25–34"], 0.17, 0.10),
        ("35-44", "35 to 44", ["35 to 44", "35–44"], 0.16, 0.14),
        ("45-54", "45 to 54", ["45 to 54", "45–54"], 0.16, 0.18),
        ("55-64", "55 to 64", ["55 to 64", "55–64"], 0.15, 0.23),
        ("65+", "65 and over", ["65 and over", "65 or over", "over 65", "65 plus"], 0.22, 0.30),
    ]),
    ("education", "Highest qualification", "Highest qualification", [
        ("No qualifications", "No qualifications", ["none", "no quals"], 0.18, 0.06),
        ("School", "School qualifications (GCSE, A level)", ["gcse", "a level", "a-levels", "school level"], 0.30, 0.20),
        ("Vocational", "Apprenticeship or vocational", ["apprenticeship", "nvq", "btec", "vocational"], 0.17, 0.13),
        ("Degree", "Degree or higher", ["degree or higher", "university", "degree", "masters", "phd"], 0.35, 0.61),
    ]),
    ("ethnicity", "Ethnic group", "Ethnic group", [
        ("White", "White", ["white british", "white other", "white irish"], 0.78, 0.86),
        ("Asian", "Asian or Asian British", ["asian british", "asian or asian british"], 0.09, 0.06),
        ("Black", "Black, Black British, Caribbean or African", ["black british", "black or black british"], 0.05, 0.03),
        ("Mixed", "Mixed or multiple ethnic groups", ["mixed", "multiple"], 0.04, 0.03),
        ("Other", "Other ethnic group", ["other ethnic group", "arab"], 0.04, 0.02),
    ]),
    ("area", "Neighbourhood", "Which part of Riverside do you live in?", [
        ("Riverside", "Riverside", ["river side"], 0.22, 0.20),
        ("Old Town", "Old Town", ["oldtown", "old-town"], 0.18, 0.30),
        ("Hillcrest", "Hillcrest", ["hill crest"], 0.20, 0.22),
        ("Millbrook", "Millbrook", ["mill brook"], 0.25, 0.16),
        ("Eastgate", "Eastgate", ["east gate"], 0.15, 0.12),
    ]),
    ("disability", "Disability", "Do you have a disability or long-term health condition?", [
        ("Yes", "Yes", ["y", "yes a lot", "yes a little"], 0.22, 0.17),
        ("No", "No", ["n", "none"], 0.78, 0.83),
    ]),
    ("climate", "Worry about climate change", "How worried are you about climate change?", [
        ("Very worried", "Very worried", ["very"], 0.30, 0.46),
        ("Fairly worried", "Fairly worried", ["fairly"], 0.40, 0.34),
        ("Not very worried", "Not very worried", ["not very"], 0.20, 0.13),
        ("Not at all worried", "Not at all worried", ["not at all"], 0.10, 0.07),
    ]),
]
SOURCES = {"climate": SURVEY}

FIRST = ["Amira", "Ben", "Chloe", "Dev", "Ewa", "Femi", "Grace", "Hamza", "Isla", "Jack", "Kemi", "Liam",
         "Maya", "Noah", "Olu", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Viktor", "Wen", "Yusuf",
         "Zoë", "Siobhán", "Łukasz", "Nguyễn", "Aoife", "Bogdan", "Chiamaka", "Dafydd", "Eleni", "Fatima",
         "Gareth", "Hana", "Imran", "Joy", "Kofi", "Leila", "Mohammed", "Niamh", "Oscar", "Pat", "Rhys",
         "Sunita", "Tom", "Valentina", "William", "Xin", "Yasmin", "Zainab", "Alan", "Brenda", "Colin",
         "Doreen", "Eric", "Flora", "Gordon", "Hilda", "Ian", "Jean", "Keith", "Lorna", "Maureen", "Nigel"]
LAST = ["Adeyemi", "Brown", "Chen", "Davies", "Evans", "Fernández", "Green", "Hughes", "Iqbal", "Jones",
        "Khan", "Lewis", "Morgan", "Nowak", "O'Brien", "Patel", "Quigley", "Roberts", "Smith", "Thomas",
        "Ubah", "Vaughan", "Williams", "Xu", "Young", "Zieliński", "Ó Briain", "Thị Minh", "Mensah", "Wright"]
STREETS = ["Mill Lane", "River Road", "Church Street", "Station Road", "Hill View", "Orchard Close",
           "Park Avenue", "Canal Walk", "Eastgate Row", "Brook Terrace", "Market Place", "School Lane"]
AREA_POSTCODE = {"Riverside": "RV1", "Old Town": "RV2", "Hillcrest": "RV3", "Millbrook": "RV4", "Eastgate": "RV5"}


def _pick(rng: random.Random, options, weights):
    return rng.choices(options, weights=weights, k=1)[0]


def _person(rng: random.Random) -> dict[str, str]:
    p = {}
    for key, _label, _q, values in FIELDS:
        names = [v[0] for v in values]
        weights = [v[4] for v in values]
        if key == "education" and p.get("age") == "16-24":
            weights = [0.15, 0.55, 0.15, 0.15]           # the young mostly still at school or college
        if key == "education" and p.get("age") == "65+":
            weights = [0.14, 0.22, 0.16, 0.48]
        if key == "ethnicity" and p.get("area") in ("Millbrook", "Eastgate"):
            weights = [0.70, 0.12, 0.08, 0.05, 0.05]
        p[key] = _pick(rng, names, weights)
    return p


def _spell(rng: random.Random, field: str, value: str) -> str:
    """How a form respondent might have typed the answer (mostly the form's own option)."""
    aliases = next(a for k, _l, _q, vals in FIELDS if k == field for v, _lab, a, _s, _w in vals if v == value)
    r = rng.random()
    if r < 0.85 or not aliases:
        label = next(lab for k, _l, _q, vals in FIELDS if k == field for v, lab, _a, _s, _w in vals if v == value)
        return label if rng.random() < 0.5 else value
    alias = rng.choice(aliases)
    return alias.title() if rng.random() < 0.5 else alias


def generate() -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    rng = random.Random(SEED)
    header = ["Timestamp", "Full name", "Email address", "Phone number", "Home address", "Postcode"] + \
             [q for _k, _l, q, _v in FIELDS] + ["Anything else we should know?"]
    rows: list[list[str]] = []
    start = datetime(2026, 9, 1, 9, 0, 0)
    t = start
    addresses: list[tuple[str, str]] = []
    used_phones: set[str] = set()
    for i in range(N_SIGNUPS):
        t += timedelta(seconds=rng.randint(300, 6000))
        p = _person(rng)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        if addresses and rng.random() < 0.03:            # lives with someone who already signed up
            address, postcode = rng.choice(addresses)
        else:
            address = f"{rng.randint(1, 140)} {rng.choice(STREETS)}"
            postcode = f"{AREA_POSTCODE[p['area']]} {rng.randint(0, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"  # noqa: E501 - one row of the demo data, read whole
            addresses.append((address, postcode))
        while True:
            phone = f"07700 900{rng.randint(0, 999):03d}"
            if phone not in used_phones or len(used_phones) > 990:
                break
        used_phones.add(phone)
        email_local = "".join(c for c in unicodedata.normalize("NFKD", f"{first}.{last}".lower())
                              if c.isascii() and (c.isalnum() or c == "."))
        email = f"{email_local}{rng.randint(1, 999)}@example.org"
        answers = [_spell(rng, k, p[k]) for k, _l, _q, _v in FIELDS]
        note = rng.choice(["", "", "", "", "I use a wheelchair", "Evenings are better for me",
                           "I may need childcare", "=1+1", "Happy to help!"])
        rows.append([t.strftime("%d/%m/%Y %H:%M:%S"), f"{first} {last}", email, phone, address, postcode]
                    + answers + [note])

    # The mess real forms produce, at fixed places so the demo always shows each kind.
    age_col = header.index("Age")
    edu_col = header.index("Highest qualification")
    rows[17][age_col] = "25 to 35"                         # unknown answer
    rows[88][edu_col] = "Some college"                     # unknown answer
    rows[140][header.index("Ethnic group")] = ""           # empty answer
    rows[301][header.index("Gender")] = ""                 # empty answer
    for original, copy_at in ((5, 210), (60, 333), (120, 455)):   # signed up twice
        dup = list(rows[original])
        dup[0] = (start + timedelta(days=20, minutes=copy_at)).strftime("%d/%m/%Y %H:%M:%S")
        rows.insert(copy_at, dup)
    rows[400][2] = ""                                      # no email given: phone only
    rows.append([""] * len(header))                        # a blank line at the end of the sheet

    fields_rows = [["field", "field_label", "question", "value", "value_label", "aliases"]]
    targets_rows = [["field", "value", "share", "source"]]
    for key, label, question, values in FIELDS:
        for value, vlabel, aliases, share, _w in values:
            fields_rows.append([key, label, question, value, vlabel, "|".join(aliases)])
            targets_rows.append([key, value, f"{share:.3f}", SOURCES.get(key, CENSUS)])
    return [header] + rows, fields_rows, targets_rows


def main() -> None:
    signups, fields_rows, targets_rows = generate()
    for name, rows in (("signups.csv", signups), ("fields.csv", fields_rows), ("targets.csv", targets_rows)):
        with open(HERE / name, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)
    print(f"wrote {len(signups) - 1} sign-up rows, {len(fields_rows) - 1} field values to {HERE}")


if __name__ == "__main__":
    main()
