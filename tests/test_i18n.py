"""English and Spanish catalogs carry the same messages with the same placeholders."""

import re

from outcomes.catalog import TABLES
from outcomes.i18n import label, messages, t
from outcomes.metrics import METRICS

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_same_keys_and_placeholders():
    en, es = messages("en"), messages("es")
    # the published tables' Spanish text: English comes from the public file's catalog
    assert set(en) == {k for k in es if not k.startswith("catalog.")}
    for key in en:
        assert set(PLACEHOLDER.findall(en[key])) == set(PLACEHOLDER.findall(es[key])), key
    assert len(en["months"].split(",")) == len(es["months"].split(",")) == 12


def test_every_metric_has_label_short_and_definition():
    for lang in ("en", "es"):
        for m in METRICS:
            for part in ("label", "short", "definition"):
                assert f"metric.{m}.{part}" in messages(lang), (lang, m, part)


def test_every_published_table_has_spanish_title_universe_and_description():
    es = messages("es")
    assert not any(k.startswith("catalog.") for k in messages("en"))
    for table in TABLES:
        for field in ("title", "universe", "description"):
            assert es.get(f"catalog.{table.name}.{field}"), (table.name, field)


def test_lookup_formats_and_falls_back():
    assert t("place.district", "es", n=7) == messages("es")["place.district"].format(n=7)
    assert label("responder", "civilian_team", "en") == "Civilian crisis team"
    assert label("responder", "unheard_of", "es") == "unheard of"
