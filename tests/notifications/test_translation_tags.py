"""Django's translation tags in message templates: the catalogue's text in the chosen language, the
sandbox's limits unchanged, and misuse refused with a message for the template's author."""

import pytest

from notifications.rendering import TemplateLimitExceeded, TemplateRenderError, render_source, template_errors


def render(body: str, language: str = "de", **context) -> str:
    return render_source(subject="", body=body, channel="email", context=context, language=language).body


def test_the_tags_take_the_catalogues_text_in_the_chosen_language():
    body = '{% translate "Warm wishes," %} {% blocktranslate with name=who %}Dear {{ name }},{% endblocktranslate %}'
    assert render(body, who="Ana") == "Herzliche Grüße Liebe(r) Ana,"
    assert render(body, language="en", who="Ana") == "Warm wishes, Dear Ana,"


def test_plural_forms_follow_the_count():
    body = "{% blocktranslate count years=n %}{{ years }} year:{% plural %}{{ years }} years:{% endblocktranslate %}"
    assert [render(body, n=n) for n in (1, 5)] == ["1 Jahr:", "5 Jahre:"]


def test_text_around_the_tags_keeps_its_line_breaks():
    assert render('{% translate "Hello," %}\n\nline', language="en") == "Hello,\n\nline"


def test_data_is_never_a_format_string():
    assert render("{% blocktranslate with name=who %}Dear {{ name }},{% endblocktranslate %}", who="%(x)s %d") == (
        "Liebe(r) %(x)s %d,"
    )


def test_the_sandboxs_limits_hold_inside_the_tags():
    with pytest.raises(TemplateLimitExceeded):
        render("{% blocktranslate with name='x' * 10**7 %}Dear {{ name }},{% endblocktranslate %}")


@pytest.mark.parametrize(
    "body",
    [
        "{% blocktranslate %}Dear {{ person.name }}{% endblocktranslate %}",
        "{% blocktranslate %}Dear {{ name }}{% endblocktranslate %}",
        "{% blocktranslate %}{% if x %}y{% endif %}{% endblocktranslate %}",
        "{% blocktranslate count n=1 %}one{% endblocktranslate %}",
        "{% blocktranslate %}never closed",
    ],
)
def test_misused_tags_are_refused_on_save(body):
    errors = template_errors(reminder_kind="one_time", channel="email", subject="", body=body)
    assert errors["body"], errors
    with pytest.raises(TemplateRenderError):
        render(body)
