"""How results are shown to people: one declaration per column (label, unit, scale), read by
every table, figure and report; numbers written as people read them."""

from __future__ import annotations

import math

import pytest

from sim.model import outputs
from sim.model.outputs import display, format_number, number, parameter_display, probability_label


def test_every_column_is_declared_with_a_label_in_words():
    for column in (*outputs.OUTCOMES, *outputs.TIMESERIES):
        shown = column.display
        assert shown.label and shown.label != column.name and "_" not in shown.label, column.name
        assert shown.label[0].isupper(), column.name
        assert display(column.name).label in {c.display.label for c in (*outputs.OUTCOMES, *outputs.TIMESERIES)}


def test_money_is_shown_in_billions_and_shares_in_percent_from_the_stored_unit():
    assert (display("cumulative_export_value_usd").unit, display("cumulative_export_value_usd").scale) == ("USD bn", 1e9)
    assert display("peak_annual_export_usd").unit == "USD bn per year"
    assert (display("china_processed_share").unit, display("china_processed_share").scale) == (
        "% of processed output", 0.01)
    assert display("stalled").unit == "% of replications"
    # a column in both tables: a total over the horizon as an outcome, a yearly flow in the series
    assert display("domestic_value_added_usd").unit == "USD bn"
    assert outputs.series_display("domestic_value_added_usd").unit == "USD bn per year"


def test_summary_rows_and_drawn_inputs_read_in_words():
    assert probability_label("P(phase3 by year 15)") == "Phase 3 reached within 15 years"
    assert probability_label("P(phase2 by year 2.5)") == "Phase 2 reached within 2.5 years"
    assert display("P(stalled)").label == "Stalled within the horizon"
    assert display("P(stalled)").bounds == (0.0, 1.0)
    shown = parameter_display("projects.reko_diq.phases.0.schedule_overrun")
    assert shown.axis_label == "Reko Diq phase 1: schedule overrun (multiplier)"
    assert parameter_display("shocks.tariff.initial_rate").axis_label == "U.S. tariff: initial rate (share, 0\u20131)"
    assert parameter_display("shocks.security.provinces.balochistan.attacks_per_year.calm").axis_label == (
        "Security, Balochistan, attacks per year: calm (attacks/yr)")
    assert "." not in display("levers.processing_mandate").axis_label  # no dotted path on an axis


def test_a_share_is_kept_within_what_it_can_be():
    share, money, npv = display("china_processed_share"), display("tariff_cost_usd"), display("npv_usd")
    assert share.clip(-0.02) == 0.0 and share.clip(1.3) == 1.0 and share.clip(0.4) == 0.4
    assert money.clip(-5.0) == 0.0 and money.clip(1e12) == 1e12
    assert npv.clip(-5e9) == -5e9  # a net present value may be negative
    assert display("stalled").difference_unit == "percentage points"
    assert display("phase3_year").difference_unit == "years"


@pytest.mark.parametrize(("name", "value", "text"), [
    ("npv_usd", -3.4321e9, "-3.43"),
    ("cumulative_export_value_usd", 7.01e10, "70.1"),
    ("china_processed_share", 0.3569, "35.7"),
    ("security_incidents", 1214, "1,214"),
    ("phase3_year", math.nan, "not reached"),
    ("phase3_year", math.inf, "not reached"),
    ("stalled", True, "yes"),
    ("tariff_cost_usd", -1e5, "0.000"),  # rounds to zero: no "-0.000"
])
def test_numbers_are_written_as_people_read_them(name, value, text):
    assert number(name, value) == text


def test_format_number_never_writes_a_negative_zero():
    assert format_number(-0.0004, small_digits=3) == "0.000"
    assert format_number(-0.004, small_digits=3) == "-0.004"
    assert format_number(-1234.4) == "-1,234"
