"""The digest's Block Kit: Slack's limits kept by degrading, data escaped, the layout's parts."""

import json

import pytest
from django.utils import translation

from notifications import blocks
from notifications.rendering import slack_mention


def birthday(name: str, *, slack_id: str = "", age=None, when=None) -> dict:
    return {"name": name, "mention": slack_mention(slack_id) or name, "age": age, "when": when, "milestone": False}


def context(*, birthdays=(), anniversaries=(), workspace="Acme") -> dict:
    return {
        "workspace": {"name": workspace},
        "date": "2026-12-07",
        "date_display": "Monday 7 December",
        "birthdays": list(birthdays),
        "anniversaries": list(anniversaries),
    }


def section_texts(found: list[dict]) -> list[str]:
    return [block["text"]["text"] for block in found if block["type"] == "section"]


def assert_within_slack_limits(found: list[dict]) -> None:
    assert len(found) <= 50
    for block in found:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
            assert block["text"]["type"] == "plain_text"


def test_one_post_has_a_header_a_section_per_celebration_and_a_context_line():
    found = blocks.digest_blocks(
        context=context(
            birthdays=[birthday("Ana", slack_id="U012AB3CD", age=30), birthday("Bo", when="on Saturday")],
            anniversaries=[
                {"name": "Cy", "mention": "Cy", "years": 5, "milestone": True, "when": None},
                {"name": "Di", "mention": "Di", "years": 2, "milestone": False, "when": None},
            ],
        )
    )
    assert [block["type"] for block in found] == ["header", "section", "section", "section", "section", "context"]
    assert section_texts(found) == [
        "🎂 <@U012AB3CD> turns 30!",
        "🎂 Happy birthday, Bo! (on Saturday)",
        "🎉 Cy: 5 years at Acme · *Milestone!*",
        "🎉 Di: 2 years at Acme",
    ]
    assert found[-1]["elements"][0]["text"] == "Monday 7 December · Acme"


def test_data_is_escaped_and_only_stored_slack_ids_mention():
    found = blocks.digest_blocks(
        context=context(birthdays=[birthday("<!channel> & <@U999>", age=None)], workspace="R&D <team>")
    )
    text = json.dumps(found)
    assert "<!channel>" not in text
    assert "<@U999>" not in text
    assert section_texts(found) == ["🎂 Happy birthday, &lt;!channel&gt; &amp; &lt;@U999&gt;!"]
    assert found[-1]["elements"][0]["text"].endswith("R&amp;D &lt;team&gt;")


@pytest.mark.parametrize("count", [48, 49, 60, 400])
def test_many_celebrations_stay_within_slacks_limits_and_name_everyone_while_they_fit(count):
    people = [birthday(f"Person {n:03}", slack_id=f"U{n:08}") for n in range(count)]
    found = blocks.digest_blocks(context=context(birthdays=people))
    assert_within_slack_limits(found)
    text = "\n".join(section_texts(found))
    for n in range(count):
        assert f"<@U{n:08}>" in text
    if count <= 48:
        assert len(section_texts(found)) == count  # one section each
    else:
        assert len(section_texts(found)) < count  # grouped, one line each


def test_more_than_fits_ends_with_how_many_more_and_never_cuts_a_mention_or_entity():
    people = [birthday("&" * 400 + f" {n}", slack_id="") for n in range(600)]
    found = blocks.digest_blocks(context=context(birthdays=people))
    assert_within_slack_limits(found)
    texts = section_texts(found)
    assert len(found) == 50
    shown = sum(text.count("Happy birthday") for text in texts[:-1])
    assert texts[-1] == f"…and {600 - shown} more."
    for text in texts:
        assert "&amp" not in text.replace("&amp;", "")  # every entity whole


def test_cut_drops_a_partial_entity_or_mention_before_the_ellipsis():
    assert blocks.cut("abc &amp; def", 7) == "abc …"
    assert blocks.cut("hi <@U012AB3CD> there", 10) == "hi …"
    assert blocks.cut("short", 10) == "short"


def test_a_template_override_is_the_body_split_into_sections_at_line_ends():
    override = "\n".join(f"line {n} " + "x" * 90 for n in range(80))  # ~8,000 characters
    found = blocks.digest_blocks(context=context(birthdays=[birthday("Ana")]), override_text=override)
    assert_within_slack_limits(found)
    body = section_texts(found)
    assert len(body) == 3
    assert "\n".join(body) == override
    assert "Happy birthday" not in json.dumps(found)


def test_threaded_parent_is_short_and_counts_the_celebrations():
    text, found = blocks.digest_parent(
        context=context(
            birthdays=[birthday("Ana"), birthday("Bo")],
            anniversaries=[{"name": "Cy", "mention": "Cy", "years": 1, "milestone": True}],
        )
    )
    assert text == "🎉 3 celebrations today"
    assert found[0]["text"]["text"] == "🎉 3 celebrations today"
    assert "Ana" not in json.dumps(found)


def test_the_blocks_speak_the_language_they_are_built_in():
    with translation.override("de"):
        found = blocks.digest_blocks(context=context(birthdays=[birthday("Ana", age=30)]))
    assert section_texts(found) == ["🎂 Ana wird 30!"]
