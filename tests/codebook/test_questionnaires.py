"""The two shipped questionnaires meet the foundation issue's requirements."""

from __future__ import annotations

import re

import pytest

CONSTRUCT_ROLES = {
    "LEARN": "basic", "INNOV": "basic", "GVC": "basic", "SOCAP": "basic",
    "POLICY": "auxiliary", "LEADER": "auxiliary", "GOVERN": "governance",
    "UP_TECH": "outcome", "UP_INNOV": "outcome", "UP_LINK": "outcome", "UP_SOCAP": "outcome",
}
PROFILE = {"firm_id", "founded", "employees", "ownership", "sales_band", "export_share",
           "oem_share", "odm_share", "obm_share", "markets", "chain_position",
           "buyer_governance", "upgrading_3y"}
_HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(params=["ningbo", "yongkang"])
def codebook(request):
    return request.getfixturevalue(request.param)


def test_constructs_and_roles(codebook):
    assert {c: k.role for c, k in codebook.constructs.items()} == CONSTRUCT_ROLES


def test_at_least_four_likert_items_per_construct_on_one_scale(codebook):
    for cid in CONSTRUCT_ROLES:
        items = codebook.likert_items(cid)
        assert len(items) >= 4, cid
        for item in items:
            assert (item.scale.min, item.scale.max) == (1, 5)
            assert item.scale.labels[1]["zh"] == "非常不同意" and item.scale.labels[5]["zh"] == "非常同意"


def test_reverse_keyed_items_in_about_half_the_constructs(codebook):
    with_reverse = {i.construct for i in codebook.likert_items() if i.reverse}
    assert 4 <= len(with_reverse) <= 7
    for cid in with_reverse:  # never a block that is all reverse-keyed
        assert any(not i.reverse for i in codebook.likert_items(cid))


def test_bilingual_texts(codebook):
    for item in codebook.items:
        assert _HAN.search(item.text["zh"]), item.id
        assert not _HAN.search(item.text["en"]), item.id
        for opt in item.options:
            assert _HAN.search(opt.label["zh"]) and not _HAN.search(opt.label["en"])


def test_firm_profile(codebook):
    assert PROFILE <= set(codebook.items_by_id)
    assert codebook.respondent_id == "firm_id"
    gov = codebook.item("buyer_governance")
    assert [o.label["en"].split(":")[0] for o in gov.options] == [
        "Market", "Modular", "Relational", "Captive", "Hierarchy"]
    assert codebook.item("upgrading_3y").type == "multiple"
    labels = [o.label["en"] for o in codebook.item("upgrading_3y").options]
    for kind in ("Process", "Product", "Functional", "Chain"):
        assert any(lab.startswith(kind) for lab in labels)
    for share in ("export_share", "oem_share", "odm_share", "obm_share"):
        assert (codebook.item(share).min, codebook.item(share).max) == (0, 100)


def test_chain_positions_are_cluster_specific(ningbo, yongkang):
    apparel = [o.label["en"] for o in ningbo.item("chain_position").options]
    hardware = [o.label["en"] for o in yongkang.item("chain_position").options]
    assert apparel == ["Fabrics and trims", "Garment making", "Design and development", "Brand and retail"]
    assert hardware == ["Moulds and tools", "Parts and components", "Assembly of finished products",
                        "Trading and distribution"]


def test_shared_structure_with_cluster_specific_wording(ningbo, yongkang):
    a = [(i.id, i.construct, i.reverse) for i in ningbo.likert_items()]
    b = [(i.id, i.construct, i.reverse) for i in yongkang.likert_items()]
    assert a == b
    differ = [i.id for i in ningbo.likert_items() if i.text["zh"] != yongkang.item(i.id).text["zh"]]
    assert len(differ) >= 20
    apparel_text = " ".join(i.text["en"] for i in ningbo.likert_items())
    hardware_text = " ".join(i.text["en"] for i in yongkang.likert_items())
    for word in ("buyers", "OEM", "fabric", "design", "brand"):
        assert word in apparel_text
    for word in ("mould", "Hardware Fair", "distributors", "hardware"):
        assert word in hardware_text


def test_model_file_matches_codebooks(ningbo, gum_model):
    from surveykit import parse_model

    table = parse_model(gum_model)
    loads = table[table["op"] == "=~"]
    assert set(loads["lhs"]) == set(CONSTRUCT_ROLES)
    for cid in CONSTRUCT_ROLES:
        assert list(loads.loc[loads["lhs"] == cid, "rhs"]) == [i.id for i in ningbo.likert_items(cid)]
    regs = set(zip(table.loc[table["op"] == "~", "lhs"], table.loc[table["op"] == "~", "rhs"], strict=True))
    for aux in ("POLICY", "LEADER"):
        for basic in ("LEARN", "INNOV", "GVC", "SOCAP"):
            assert (basic, aux) in regs
    for outcome, basic in (("UP_TECH", "LEARN"), ("UP_INNOV", "INNOV"), ("UP_LINK", "GVC"),
                           ("UP_SOCAP", "SOCAP")):
        assert (outcome, basic) in regs
    defined = table.loc[table["op"] == ":=", "lhs"]
    assert {"POLICY_TOTAL_INDIRECT", "LEADER_TOTAL_INDIRECT"} <= set(defined)
