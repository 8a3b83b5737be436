"""Each group keeps one colour, keyed by its name, in every figure and in the report."""

from __future__ import annotations

from model_collapse.output.colours import PALETTE, colours, preferred


def test_a_name_keeps_its_colour_whatever_else_is_drawn_and_in_any_order():
    alone = colours(["replace"])["replace"]
    assert alone == PALETTE[preferred("replace")]
    assert colours(["replace", "mix", "accumulate"])["replace"] == alone
    assert colours(["accumulate", "replace"])["replace"] == alone
    others = [
        n for n in ("zzz", "oracle", "weight", "filter") if preferred(n) != preferred("replace")
    ]
    assert len(others) >= 2 and colours([*others, "replace"])["replace"] == alone


def test_two_names_of_one_colour_the_later_in_alphabetical_order_moves_on():
    assert preferred("pool") == preferred("replace")  # both red
    found = colours(["replace", "pool"])
    assert found["pool"] == PALETTE[preferred("pool")]
    assert found["replace"] == PALETTE[(preferred("replace") + 1) % len(PALETTE)]


def test_names_of_one_figure_never_share_a_colour_while_ten_colours_last():
    names = [f"variant-{i}" for i in range(len(PALETTE))]
    found = colours(names)
    assert len(set(found.values())) == len(PALETTE)
    assert colours(list(reversed(names))) == found  # the same set: the same colours
    many = colours([*names, "one-more"])  # more names than colours: they share, no error
    assert set(many.values()) <= set(PALETTE)


def test_a_label_with_settings_takes_its_plug_ins_colour():
    plain = colours(["replace", "mix", "accumulate"])
    labelled = colours(["replace", "mix, real_fraction=0.1", "accumulate"])
    assert labelled["mix, real_fraction=0.1"] == plain["mix"]
    assert labelled["replace"] == plain["replace"]
    two = colours(["mix, real_fraction=0.1", "mix, real_fraction=0.5"])
    assert len(set(two.values())) == 2


def test_the_demo_regimes_read_red_orange_blue():
    found = colours(["replace", "mix", "accumulate"])
    assert (found["replace"], found["mix"], found["accumulate"]) == (
        "#d62728",
        "#ff7f0e",
        "#1f77b4",
    )
