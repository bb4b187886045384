"""The settlement's words in plain Dutch (issue 15, point 4): beside the figures on the statements
and "Wat als?", and at the end of the statement PDF."""
from __future__ import annotations

import io

from pypdf import PdfReader

from portal.settlement.glossary import TERMS
from tests.test_settlement_screens import MANAGER, PROVIDER, make_run, org_id, text


def test_every_rule_word_is_explained_in_a_sentence():
    words = [term.word for term in TERMS]
    for word in ("Bandbreedte (band)", "Buiten de band", "Reikwijdte van de band", "Gedeelde besparing",
                 "Budgetplafond"):
        assert word in words
    assert all(len(term.meaning) > 40 and term.meaning.endswith(".") for term in TERMS)


def test_statements_and_what_if_explain_the_words(app, signed_in):
    run_id = make_run(app, publish=True)
    provider = signed_in(PROVIDER)
    page = text(provider.get(f"/afrekening/{run_id}"))
    assert "Wat betekenen deze begrippen?" in page and TERMS[4].meaning in page
    manager = signed_in(MANAGER)
    assert "Wat betekenen deze begrippen?" in text(manager.get(f"/afrekening/{run_id}"))
    assert "Reikwijdte van de band" in text(manager.get("/afrekening/wat-als/"))


def test_the_statement_pdf_ends_with_the_words_explained(app, signed_in):
    run_id = make_run(app, publish=True)
    pdf = signed_in(PROVIDER).get(f"/afrekening/{run_id}/aanbieder/{org_id('Zorggroep Maasland', app)}.pdf")
    assert pdf.status_code == 200
    words = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Wat betekenen deze begrippen?" in words and "Gedeelde besparing" in words
