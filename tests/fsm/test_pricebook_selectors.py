"""Searching the pricebook: every word in the code or the name, the best match first, active items only."""

import pytest

from fsm.pricebook.selectors import item_list, item_search
from fsm.pricebook.services import item_deactivate
from tests.fsm.factories import make_pricebook_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def items():
    return {
        "tank": make_pricebook_item(code="WH-50G", name="Water heater 50 gal gas replace"),
        "flush": make_pricebook_item(code="WH-FLUSH", name="Water heater flush", price="189"),
        "valve": make_pricebook_item(
            code="M-TP", name="T&P valve for water heater", kind="material", price="30"
        ),
        "toilet": make_pricebook_item(code="FX-TOILET", name="Toilet install", price="345"),
    }


def test_search_puts_an_exact_code_first_then_codes_then_names(items):
    assert [i.code for i in item_search(q="wh-flush")] == ["WH-FLUSH"]
    assert [i.code for i in item_search(q="wh")][:2] == ["WH-50G", "WH-FLUSH"]
    assert [i.code for i in item_search(q="water heater")][-1] == "M-TP"  # the name does not start with it


def test_every_word_must_match_the_code_or_the_name(items):
    assert [i.code for i in item_search(q="heater flush")] == ["WH-FLUSH"]
    assert item_search(q="heater toilet") == []


def test_search_leaves_out_inactive_items_and_honours_the_limit_and_kind(items, office):
    item_deactivate(item=items["flush"], actor=office)
    assert {i.code for i in item_search(q="heater")} == {"WH-50G", "M-TP"}
    assert len(item_search(q="heater", limit=1)) == 1
    assert [i.code for i in item_search(q="heater", kind="material")] == ["M-TP"]
    assert item_search(q="  ") == []


def test_the_list_filters_by_kind_category_and_status(items, office):
    item_deactivate(item=items["toilet"], actor=office)
    assert {i.code for i in item_list(kind="material")} == {"M-TP"}
    assert "FX-TOILET" not in {i.code for i in item_list()}
    assert {i.code for i in item_list(active=False)} == {"FX-TOILET"}
    assert len(item_list(active=None)) == 4


def test_search_is_one_query(items, django_assert_num_queries):
    with django_assert_num_queries(1):
        item_search(q="water")
