"""The manifest's faults as codes: every pydantic refusal a community admin can cause gets a code of its own (not the
catch-all), and every code reads in Italian in the dApp (dapp/i18n/onboarding.json) with the values it names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dapp.i18n import placeholders, t
from lec.community.manifest import FAULTS, Fault, ManifestError, parse_manifest, validate_manifest

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "community-manifest.json"


def example() -> dict:
    return json.loads(EXAMPLE.read_text())


def italian(fault: Fault) -> str:
    """As the onboarding page words it (dapp/views/onboarding.py `_fault`)."""
    sentence = t(f"onboarding.fault.{fault.code}", language="it", **fault.params)
    return t("onboarding.fault.at", language="it", path=fault.path, sentence=sentence) if fault.path else sentence


def faults_of(edit) -> list[Fault]:
    data = example()
    edit(data)
    with pytest.raises(ManifestError) as refused:
        validate_manifest(data)
    return refused.value.faults


def test_every_code_has_its_italian_sentence_with_the_same_values():
    for code, english in FAULTS.items():
        texts = {lang: t(f"onboarding.fault.{code}", language=lang) for lang in ("it", "en")}
        assert texts["en"] == english, code  # the dApp's English is the CLI's, word for word
        assert texts["it"] != english, code
        assert placeholders(texts["it"]) == placeholders(english), code


@pytest.mark.parametrize(
    ("edit", "code", "expected"),
    [
        (
            lambda d: d["community"].update(zone="MARS"),
            "one_of",
            "community.zone: deve essere uno di questi valori: NORD, CNOR, CSUD, SUD, CALA, SICI, SARD",
        ),
        (lambda d: d["community"].update(chain_id=0), "too_small", "community.chain_id: deve essere almeno 1"),
        (lambda d: d["plants"][0].update(kw=0), "not_above", "plants[0].kw: deve essere maggiore di 0"),
        (lambda d: d["plants"][0].update(kw="sei"), "not_number", "plants[0].kw: deve essere un numero"),
        (
            lambda d: d["plants"][0].update(commissioned="2024-13-01"),
            "not_date",
            "plants[0].commissioned: deve essere una data scritta AAAA-MM-GG",
        ),
        (lambda d: d["plants"][0].update(new_plant="forse"), "not_boolean", "plants[0].new_plant: deve essere true"),
        (lambda d: d.update(members={}), "not_list", "members: deve essere un elenco tra parentesi quadre"),
        (lambda d: d.update(community=[]), "not_object", "community: deve essere un oggetto tra parentesi graffe"),
        (lambda d: d["members"][0].update(pod="IT 001"), "code_format", "members[0].pod: deve essere un codice"),
        (
            lambda d: d["members"][0].update(account="0x" + "g" * 40),
            "not_address",
            "members[0].account: non è un indirizzo di portafoglio",
        ),
        (lambda d: d["members"][2].update(podd="x"), "unknown_field", "members[2].podd: non è un campo del manifesto"),
        (lambda d: d["community"].pop("zone"), "missing", "community.zone: è obbligatorio"),
        (
            lambda d: d["plants"][0].update(substation="AC009"),
            "plant_substation",
            "plants[0].substation: la cabina primaria AC009 è diversa da quella del socio (AC001E00001)",
        ),
        (
            lambda d: d["plants"][0].update(new_plant=False),
            "existing_over_30",
            "plants: gli impianti già in esercizio prima della comunità (new_plant false) sommano 14.5 kW, il 33.3 % "
            "dei 43.5 kW della comunità",
        ),
    ],
)
def test_a_fault_reads_in_italian_with_its_path(edit, code, expected):
    faults = faults_of(edit)
    assert [f.code for f in faults] == [code]
    assert italian(faults[0]).startswith(expected), italian(faults[0])


def test_faults_of_the_file_itself_have_no_path():
    with pytest.raises(ManifestError) as refused:
        parse_manifest('{"community":\n {"chain_id": 1}\n,,}')
    assert italian(refused.value.faults[0]) == "riga 3, colonna 2: il JSON non è valido"
    with pytest.raises(ManifestError) as refused:
        parse_manifest(b'{"community": "\xe9"}')
    assert italian(refused.value.faults[0]) == "il file non è testo UTF-8"
