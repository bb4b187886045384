"""The OpenAPI 3.1 description of API v1, written by hand next to the code it describes.

``tests/test_api.py`` checks that every API route is in it, that it is a valid OpenAPI 3.1
document, and that real answers match the schemas below.
"""
from __future__ import annotations

from copy import deepcopy

API_VERSION = "1.0.0"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    """``schema`` or null (OpenAPI 3.1 is JSON Schema 2020-12: no ``nullable`` keyword)."""
    return {"anyOf": [schema, {"type": "null"}]}


AMOUNT = {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["1234.56"],
          "description": "Bedrag in euro als decimale tekenreeks met twee decimalen (nooit een float)."}
DECIMAL = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "examples": ["2.50"],
           "description": "Exact decimaal getal als tekenreeks."}
DATE = {"type": "string", "format": "date", "examples": ["2022-01-01"]}
MOMENT = {"type": "string", "format": "date-time", "examples": ["2026-01-05T09:30:00+00:00"],
          "description": "Moment in ISO 8601, in UTC."}

SCHEMAS: dict = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "string", "enum": [
                        "bad_request", "unauthorized", "forbidden", "not_found", "method_not_allowed",
                        "not_acceptable", "too_many_requests", "internal_error", "conflict", "invalid"]},
                    "message": {"type": "string", "description": "Uitleg in het Nederlands."},
                    "parameter": {"type": "string", "description": "De queryparameter die niet klopt."},
                    "field": {"type": "string", "description": "Het veld van de meegestuurde gegevens dat niet klopt."},
                },
            },
        },
    },
    "Links": {
        "type": "object",
        "required": ["next", "previous"],
        "additionalProperties": False,
        "properties": {
            "next": _nullable({"type": "string", "description": "Pad naar de volgende pagina."}),
            "previous": _nullable({"type": "string", "description": "Pad naar de vorige pagina."}),
        },
    },
    "OrganisationRef": {
        "type": "object",
        "required": ["id", "name"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "agb_code": _nullable({"type": "string", "description": "AGB-code (zorgaanbieders)."}),
            "municipality_code": {"type": "string", "pattern": r"^\d{4}$",
                                  "description": "CBS-gemeentecode (gemeenten)."},
        },
    },
    "PriceLine": {
        "type": "object",
        "required": ["label", "amount", "kind"],
        "additionalProperties": False,
        "properties": {
            "label": {"type": "string"},
            "amount": AMOUNT,
            "kind": {"type": "string", "enum": ["price", "info", "conditional"],
                     "description": "price: deel van de prijs; info: ter informatie, niet opgeteld; "
                                    "conditional: alleen bij een voorwaarde (beloning), niet in de prijs."},
        },
    },
    "Price": {
        "type": "object",
        "required": ["total", "lines"],
        "additionalProperties": False,
        "properties": {
            "total": {**AMOUNT, "description": "Som van de regels van soort 'price'."},
            "lines": {"type": "array", "items": _ref("PriceLine")},
        },
    },
    "CatalogueItem": {
        "type": "object",
        "description": "Een standaardtraject van het catalogusjaar met zijn berekende prijs. Voor een "
                       "zorgaanbieder zijn de opslagen waarvoor hij in aanmerking komt inbegrepen.",
        "required": ["id", "year", "segment", "segment_name", "code", "name", "care_form", "expertise",
                     "intensity", "intensity_period", "duration_months", "tariff", "extra", "price",
                     "price_note", "surcharges_included"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "year": {"type": "integer"},
            "segment": {"type": "string", "description": "Segmentsleutel 'domein.code'."},
            "segment_name": _nullable({"type": "string"}),
            "code": {"type": "string"},
            "name": {"type": "string"},
            "care_form": _nullable({
                "type": "object", "required": ["id", "code", "name"], "additionalProperties": False,
                "properties": {"id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"}},
            }),
            "expertise": {"type": "string"},
            "intensity": DECIMAL,
            "intensity_period": {"type": "string", "enum": ["week", "month"]},
            "duration_months": {"type": "integer"},
            "tariff": _nullable({
                "type": "object", "required": ["code", "name", "unit", "unit_rate"], "additionalProperties": False,
                "properties": {
                    "code": {"type": "string"},
                    "name": {"type": "string"},
                    "unit": {"type": "string", "enum": ["hour", "contact", "day"]},
                    "unit_rate": _nullable({**AMOUNT, "description": "Tarief per eenheid op 1 januari van het jaar."}),
                },
            }),
            "extra": {"type": "object", "additionalProperties": _nullable({"type": "string"}),
                      "description": "Velden die het segment toevoegt (als tekenreeks)."},
            "price": _nullable(_ref("Price")),
            "price_note": _nullable({"type": "string",
                                     "description": "Waarom er geen prijs is (bijvoorbeeld geen tarief voor dit jaar)."}),
            "surcharges_included": {"type": "boolean"},
        },
    },
    "BowWaveEvaluation": {
        "type": "object",
        "required": ["year", "satisfactory", "end_before", "end_after", "note", "decided_at"],
        "additionalProperties": False,
        "properties": {
            "year": {"type": "integer"},
            "satisfactory": {"type": "boolean"},
            "end_before": DATE,
            "end_after": DATE,
            "note": {"type": "string"},
            "decided_at": MOMENT,
        },
    },
    "FrameworkAgreement": {
        "type": "object",
        "description": "Raamovereenkomst van een zorgaanbieder voor één domein en perceel.",
        "required": ["id", "reference", "provider", "domain", "lot", "contract_form", "contract_form_label",
                     "segments", "start_date", "initial_years", "extension_options", "extensions_used",
                     "bow_wave", "bow_wave_years_earned", "end_date", "terminated_on", "status",
                     "status_label", "created_at"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "reference": {"type": "string"},
            "provider": _nullable(_ref("OrganisationRef")),
            "domain": {"type": "string"},
            "lot": {"type": "string", "enum": ["regional", "local", "open_house"]},
            "contract_form": {"type": "string", "enum": ["a", "b", "c", "d"]},
            "contract_form_label": _nullable({"type": "string"}),
            "segments": {"type": "array", "items": {
                "type": "object", "required": ["key", "name"], "additionalProperties": False,
                "properties": {"key": {"type": "string"}, "name": _nullable({"type": "string"})},
            }},
            "start_date": DATE,
            "initial_years": {"type": "integer"},
            "extension_options": {"type": "array", "items": {"type": "integer"},
                                  "description": "Verlengingsopties in jaren, bijvoorbeeld [1, 1] bij 3+1+1."},
            "extensions_used": {"type": "integer"},
            "bow_wave": {"type": "boolean", "description": "Boeggolfprincipe van toepassing."},
            "bow_wave_years_earned": {"type": "integer",
                                      "description": "Jaren verdiend met voldoende jaarlijkse evaluaties."},
            "end_date": _nullable({**DATE, "description": "Laatste dag (inclusief)."}),
            "terminated_on": _nullable(DATE),
            "status": _nullable({"type": "string", "enum": ["future", "running", "ended", "terminated"]}),
            "status_label": _nullable({"type": "string"}),
            "created_at": MOMENT,
        },
    },
    "BudgetAgreement": {
        "type": "object",
        "description": "Aanvullende afspraak van een regionale aanbieder met één gemeente voor één "
                       "segment en jaar: een budgetafspraak of een budgetplafond.",
        "required": ["id", "provider", "municipality", "framework_agreement_id", "segment", "segment_name",
                     "year", "kind", "amount", "bandwidth_percentage", "advance_installments", "advances",
                     "created_at", "updated_at"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "provider": _nullable(_ref("OrganisationRef")),
            "municipality": _nullable(_ref("OrganisationRef")),
            "framework_agreement_id": {"type": "integer"},
            "segment": {"type": "string"},
            "segment_name": _nullable({"type": "string"}),
            "year": {"type": "integer"},
            "kind": {"type": "string", "enum": ["budget", "ceiling"]},
            "amount": AMOUNT,
            "bandwidth_percentage": _nullable(DECIMAL),
            "advance_installments": _nullable({"type": "integer", "enum": [1, 4, 12]}),
            "advances": {"type": "array", "description": "Voorschotten in hele centen; samen precies het budget.",
                         "items": {"type": "object", "required": ["number", "amount"], "additionalProperties": False,
                                   "properties": {"number": {"type": "integer"}, "amount": AMOUNT}}},
            "created_at": MOMENT,
            "updated_at": MOMENT,
        },
    },
}


PROPOSAL_VALUES = {
    "intensity": DECIMAL,
    "intensity_period": {"type": "string", "enum": ["week", "month"]},
    "duration_months": {"type": "integer", "minimum": 1},
    "expected_per_year": {"type": "integer", "minimum": 1},
    "extra": {"type": "object", "additionalProperties": {"type": "string"},
              "description": "De velden die de plugin van het segment toevoegt (naam → waarde)."},
}
SCHEMAS["Proposal"] = {
    "type": "object",
    "description": "Een voorstel voor een maatwerktraject en de stand van de onderhandeling.",
    "required": ["id", "title", "state", "state_label", "provider", "segment", "standard_trajectory_id",
                 "current_version", "lock_version", "current", "custom_trajectory", "created_at",
                 "submitted_at", "updated_at", "decided_at"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "state": {"type": "string", "enum": ["draft", "submitted", "in_negotiation", "approved", "rejected",
                                             "withdrawn"]},
        "state_label": {"type": "string"},
        "provider": {"type": "object", "required": ["id", "name"], "additionalProperties": False,
                     "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "segment": {"type": "string"},
        "standard_trajectory_id": {"type": "integer"},
        "current_version": {"type": "integer"},
        "lock_version": {"type": "integer"},
        "current": {"type": "object", "additionalProperties": False,
                    "required": ["number", "side", *PROPOSAL_VALUES, "substantiation", "comment"],
                    "properties": {"number": {"type": "integer"},
                                   "side": {"type": "string", "enum": ["provider", "region"]},
                                   **PROPOSAL_VALUES, "substantiation": {"type": "string"},
                                   "comment": {"type": "string"}}},
        "custom_trajectory": _nullable({
            "type": "object", "required": ["code", "valid_from", "valid_until"], "additionalProperties": False,
            "properties": {"code": {"type": "string"}, "valid_from": DATE, "valid_until": _nullable(DATE)}}),
        "created_at": MOMENT,
        "submitted_at": _nullable(MOMENT),
        "updated_at": MOMENT,
        "decided_at": _nullable(MOMENT),
    },
}
SCHEMAS["NewProposal"] = {
    "type": "object",
    "description": "Een nieuw voorstel: het wordt aangemaakt en meteen ingediend bij de regio.",
    "required": ["standard_trajectory_id", "title", "intensity", "intensity_period", "duration_months",
                 "expected_per_year", "substantiation"],
    "additionalProperties": False,
    "properties": {
        "standard_trajectory_id": {"type": "integer"},
        "title": {"type": "string", "maxLength": 200},
        **PROPOSAL_VALUES,
        "substantiation": {"type": "string"},
        "submission_key": {"type": "string", "maxLength": 64,
                           "description": "Eigen sleutel van de aanroeper: hetzelfde verzoek twee keer "
                                          "versturen maakt één voorstel."},
    },
}


def _list_schema(item: str) -> dict:
    return {
        "type": "object",
        "required": ["data", "page", "per_page", "total", "pages", "links"],
        "additionalProperties": False,
        "properties": {
            "data": {"type": "array", "items": _ref(item)},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 1},
            "links": _ref("Links"),
        },
    }


for _name in ("CatalogueItem", "FrameworkAgreement", "BudgetAgreement", "Proposal"):
    SCHEMAS[f"{_name}List"] = _list_schema(_name)
_framework = SCHEMAS["FrameworkAgreement"]
SCHEMAS["FrameworkAgreementDetail"] = {
    **_framework,
    "description": _framework["description"] + " Met de jaarlijkse evaluaties onder het boeggolfprincipe.",
    "required": [*_framework["required"], "bow_wave_evaluations"],
    "properties": {**_framework["properties"],
                   "bow_wave_evaluations": {"type": "array", "items": _ref("BowWaveEvaluation")}},
}

PARAMETERS = {
    "page": {"name": "page", "in": "query", "required": False,
             "description": "Paginanummer, vanaf 1. Een pagina voorbij het einde is leeg.",
             "schema": {"type": "integer", "minimum": 1, "default": 1}},
    "per_page": {"name": "per_page", "in": "query", "required": False,
                 "description": "Aantal per pagina, hoogstens 100.",
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}},
    "catalogue_year": {"name": "year", "in": "query", "required": False,
                       "description": "Catalogusjaar; standaard het huidige jaar.",
                       "schema": {"type": "integer", "minimum": 2000, "maximum": 2100}},
    "year": {"name": "year", "in": "query", "required": False, "description": "Alleen dit jaar.",
             "schema": {"type": "integer", "minimum": 2000, "maximum": 2100}},
    "segment": {"name": "segment", "in": "query", "required": False,
                "description": "Alleen dit segment (sleutel 'domein.code').", "schema": {"type": "string"}},
    "municipality": {"name": "municipality", "in": "query", "required": False,
                     "description": "Alleen afspraken met deze gemeente (CBS-gemeentecode, 4 cijfers).",
                     "schema": {"type": "string", "pattern": r"^\d{4}$"}},
    "domain": {"name": "domain", "in": "query", "required": False, "description": "Alleen dit domein.",
               "schema": {"type": "string"}},
    "lot": {"name": "lot", "in": "query", "required": False, "description": "Alleen dit perceel.",
            "schema": {"type": "string", "enum": ["regional", "local", "open_house"]}},
    "proposal_state": {"name": "state", "in": "query", "required": False, "description": "Alleen deze status.",
                       "schema": {"type": "string", "enum": ["draft", "submitted", "in_negotiation", "approved",
                                                             "rejected", "withdrawn"]}},
    "agreement_id": {"name": "agreement_id", "in": "path", "required": True,
                     "description": "Id van de afspraak.", "schema": {"type": "integer"}},
}


def _param(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


def _json(schema_name: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema_name)}}}


RESPONSES = {
    "400": _json("Error", "Ongeldige of onbekende queryparameter."),
    "401": {**_json("Error", "Geen, een onbekende of een ingetrokken API-sleutel."),
            "headers": {"WWW-Authenticate": {"description": "Bearer realm=\"aanbiedersportaal\"",
                                             "schema": {"type": "string"}}}},
    "403": _json("Error", "Geen toegang met deze API-sleutel."),
    "404": _json("Error", "Bestaat niet, of is niet zichtbaar voor de organisatie van deze API-sleutel."),
}

SCOPE_NOTE = ("Wat u ziet hangt af van de organisatie en rol van de API-sleutel, precies als in het "
              "portaal: een zorgaanbieder ziet alleen zijn eigen afspraken, een gemeente alleen de "
              "afspraken met die gemeente, contractmanagers en accountants alles van hun regio.")

FRAMEWORK_NOTE = " Raamovereenkomsten zijn er niet voor gemeenten: hun API-sleutel krijgt 403."

PATHS = {
    "/openapi.json": {
        "get": {
            "operationId": "getOpenApi",
            "summary": "Deze beschrijving van de API (OpenAPI 3.1)",
            "description": "Openbaar: bevat geen gegevens.",
            "security": [],
            "responses": {"200": {"description": "Het OpenAPI-document.",
                                  "content": {"application/json": {"schema": {"type": "object"}}}}},
        },
    },
    "/catalogue": {
        "get": {
            "operationId": "listCatalogue",
            "summary": "Standaardtrajecten van de catalogus met hun prijs",
            "description": "De standaardtrajecten van één catalogusjaar van de regio, met zorgvorm, "
                           "intensiteit, doorlooptijd, tarief en de berekende prijs (regels en totaal). "
                           "Voor een zorgaanbieder zijn de opslagen inbegrepen waarvoor hij in aanmerking komt.",
            "parameters": [_param("catalogue_year"), _param("segment"), _param("page"), _param("per_page")],
            "responses": {"200": _json("CatalogueItemList", "Eén pagina standaardtrajecten."),
                          "400": {"$ref": "#/components/responses/400"},
                          "401": {"$ref": "#/components/responses/401"},
                          "403": {"$ref": "#/components/responses/403"}},
        },
    },
    "/framework-agreements": {
        "get": {
            "operationId": "listFrameworkAgreements",
            "summary": "Raamovereenkomsten",
            "description": SCOPE_NOTE + FRAMEWORK_NOTE,
            "parameters": [_param("domain"), _param("lot"), _param("page"), _param("per_page")],
            "responses": {"200": _json("FrameworkAgreementList", "Eén pagina raamovereenkomsten."),
                          "400": {"$ref": "#/components/responses/400"},
                          "401": {"$ref": "#/components/responses/401"},
                          "403": {"$ref": "#/components/responses/403"}},
        },
    },
    "/framework-agreements/{agreement_id}": {
        "get": {
            "operationId": "getFrameworkAgreement",
            "summary": "Eén raamovereenkomst, met de evaluaties onder het boeggolfprincipe",
            "description": SCOPE_NOTE + FRAMEWORK_NOTE + " Een id van een andere organisatie geeft 404.",
            "parameters": [_param("agreement_id")],
            "responses": {"200": _json("FrameworkAgreementDetail", "De raamovereenkomst."),
                          "400": {"$ref": "#/components/responses/400"},
                          "401": {"$ref": "#/components/responses/401"},
                          "403": {"$ref": "#/components/responses/403"},
                          "404": {"$ref": "#/components/responses/404"}},
        },
    },
    "/budget-agreements": {
        "get": {
            "operationId": "listBudgetAgreements",
            "summary": "Budgetafspraken en budgetplafonds",
            "description": SCOPE_NOTE,
            "parameters": [_param("year"), _param("municipality"), _param("segment"), _param("page"),
                           _param("per_page")],
            "responses": {"200": _json("BudgetAgreementList", "Eén pagina budgetafspraken."),
                          "400": {"$ref": "#/components/responses/400"},
                          "401": {"$ref": "#/components/responses/401"},
                          "403": {"$ref": "#/components/responses/403"}},
        },
    },
    "/budget-agreements/{agreement_id}": {
        "get": {
            "operationId": "getBudgetAgreement",
            "summary": "Eén budgetafspraak of budgetplafond, met het voorschotschema",
            "description": SCOPE_NOTE + " Een id van een andere organisatie geeft 404.",
            "parameters": [_param("agreement_id")],
            "responses": {"200": _json("BudgetAgreement", "De afspraak."),
                          "400": {"$ref": "#/components/responses/400"},
                          "401": {"$ref": "#/components/responses/401"},
                          "403": {"$ref": "#/components/responses/403"},
                          "404": {"$ref": "#/components/responses/404"}},
        },
    },
}

PATHS["/proposals"] = {
    "get": {
        "operationId": "listProposals",
        "summary": "Voorstellen voor maatwerktrajecten",
        "description": "Een zorgaanbieder ziet zijn eigen voorstellen, contractmanagers en accountants alle "
                       "voorstellen van hun regio; gemeenten krijgen 403. Laatst gewijzigd eerst.",
        "parameters": [_param("proposal_state"), _param("page"), _param("per_page")],
        "responses": {"200": _json("ProposalList", "Eén pagina voorstellen."),
                      "400": {"$ref": "#/components/responses/400"},
                      "401": {"$ref": "#/components/responses/401"},
                      "403": {"$ref": "#/components/responses/403"}},
    },
    "post": {
        "operationId": "submitProposal",
        "summary": "Een voorstel voor een maatwerktraject indienen",
        "description": "Alleen met de API-sleutel van een zorgaanbieder in het regionale perceel, voor een "
                       "standaardtraject van een segment waarvoor hij een lopende raamovereenkomst heeft. "
                       "Ongeldige gegevens geven 422 met het veld in 'error.field'; er wordt dan niets opgeslagen.",
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewProposal")}}},
        "responses": {"201": _json("Proposal", "Het ingediende voorstel."),
                      "200": _json("Proposal", "Dit verzoek (dezelfde submission_key) was al verwerkt."),
                      "400": {"$ref": "#/components/responses/400"},
                      "401": {"$ref": "#/components/responses/401"},
                      "403": {"$ref": "#/components/responses/403"},
                      "422": _json("Error", "De gegevens zijn niet geldig; 'field' noemt het veld.")},
    },
}

# --- Realisation ---------------------------------------------------------------------------

REALISATION_STATE = {"type": "string", "enum": ["submitted", "approved", "rejected", "superseded"],
                     "description": "submitted: ingediend, wacht op beoordeling; approved: goedgekeurd, staat vast; "
                                    "rejected: afgewezen (zie rejection_reason); superseded: vervangen door een "
                                    "correctie (een nieuwere versie)."}
SCHEMAS["RealisationLine"] = {
    "type": "object",
    "description": "De realisatie van één (maatwerk)traject in een rapportage, met de waarde volgens de "
                   "afgesproken prijzen.",
    "required": ["trajectory", "started", "running", "ended", "clients", "units", "place_days", "unit_price",
                 "value", "extra"],
    "additionalProperties": False,
    "properties": {
        "trajectory": {"type": "string", "description": "Trajectcode (standaard- of maatwerktraject)."},
        "started": {"type": "integer", "minimum": 0},
        "running": {"type": "integer", "minimum": 0},
        "ended": {"type": "integer", "minimum": 0},
        "clients": {"type": "integer", "minimum": 0},
        "units": _nullable(DECIMAL),
        "place_days": _nullable({"type": "integer", "minimum": 0}),
        "unit_price": {**AMOUNT, "description": "Prijs per traject, per eenheid of per plekdag."},
        "value": AMOUNT,
        "extra": {"type": "object", "additionalProperties": {"type": "string"},
                  "description": "Velden die de plugin van het segment toevoegt (naam → waarde)."},
    },
}
SCHEMAS["RealisationReport"] = {
    "type": "object",
    "description": "De realisatie van een zorgaanbieder voor één gemeente, segment en periode, in één versie. "
                   "Een correctie is een nieuwe versie; de vorige wordt 'superseded'.",
    "required": ["id", "provider", "municipality", "segment", "segment_name", "year", "period", "period_kind",
                 "period_number", "version", "state", "lock_version", "total_value", "line_count", "warnings",
                 "rejection_reason", "upload_id", "submitted_at", "reviewed_at"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer"},
        "provider": _nullable(_ref("OrganisationRef")),
        "municipality": _nullable(_ref("OrganisationRef")),
        "segment": {"type": "string"},
        "segment_name": _nullable({"type": "string"}),
        "year": {"type": "integer"},
        "period": {"type": "string", "pattern": r"^\d{4}-(\d{2}|K[1-4])$", "examples": ["2026-03", "2026-K1"]},
        "period_kind": {"type": "string", "enum": ["month", "quarter"]},
        "period_number": {"type": "integer", "minimum": 1, "maximum": 12},
        "version": {"type": "integer", "minimum": 1},
        "state": REALISATION_STATE,
        "lock_version": {"type": "integer"},
        "total_value": AMOUNT,
        "line_count": {"type": "integer", "minimum": 0},
        "warnings": {"type": "array", "items": {"type": "string"},
                     "description": "Waarschuwingen bij het inlezen (bijvoorbeeld meer plekdagen dan plekken)."},
        "rejection_reason": _nullable({"type": "string"}),
        "upload_id": _nullable({"type": "integer"}),
        "submitted_at": MOMENT,
        "reviewed_at": _nullable(MOMENT),
    },
}
SCHEMAS["RealisationReportDetail"] = {
    **SCHEMAS["RealisationReport"],
    "description": SCHEMAS["RealisationReport"]["description"] + " Met de regels.",
    "required": [*SCHEMAS["RealisationReport"]["required"], "lines"],
    "properties": {**SCHEMAS["RealisationReport"]["properties"],
                   "lines": {"type": "array", "items": _ref("RealisationLine")}},
}
SCHEMAS["RealisationReportList"] = _list_schema("RealisationReport")
_CELL = {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "null"}]}
SCHEMAS["RealisationRows"] = {
    "type": "object",
    "description": "Regels realisatie met dezelfde kolommen als het bestand (namen zonder hoofdletters of "
                   "accenten: 'clienten', 'beeindigd'). Waarden zijn tekst of getallen; null is leeg. Alles of "
                   "niets: bij één fout wordt niets opgeslagen.",
    "required": ["rows"],
    "additionalProperties": False,
    "properties": {
        "rows": {"type": "array", "minItems": 1, "maxItems": 10000, "items": {
            "type": "object",
            "description": "Eén regel. Verplicht zijn gemeente, segment, periode en traject; hoofdletters en "
                           "accenten in de kolomnamen tellen niet ('Cliënten' is 'clienten').",
            "properties": {
                "gemeente": {**_CELL, "description": "CBS-code (\"0983\") of naam van een gemeente van de regio."},
                "segment": {**_CELL, "description": "Segmentsleutel (\"domein.S4\") of domeinnaam en code (\"Domein S4\")."},
                "periode": {**_CELL, "description": "\"2026-03\" (maand) of \"2026-K1\" (kwartaal), zoals de "
                                                    "gemeente het voor het segment vraagt."},
                "traject": {**_CELL, "description": "Code van een standaardtraject of van uw maatwerktraject."},
                "gestart": _CELL, "lopend": _CELL, "beeindigd": _CELL, "clienten": _CELL,
                "eenheden": {**_CELL, "description": "Geleverde eenheden (uren, dagen); decimalen met punt of komma."},
                "plekdagen": {**_CELL, "description": "Bezette plekdagen, waar de gemeente plekken inkoopt."},
            },
            "additionalProperties": {**_CELL, "description": "Velden die de plugin van het segment toevoegt."},
        }},
    },
}
SCHEMAS["RealisationSubmitted"] = {
    "type": "object",
    "required": ["upload_id", "rows", "reports"],
    "additionalProperties": False,
    "properties": {
        "upload_id": {"type": "integer"},
        "rows": {"type": "integer", "minimum": 1},
        "reports": {"type": "array", "items": _ref("RealisationReport"),
                    "description": "Eén nieuwe rapportage(versie) per gemeente × segment × periode."},
    },
}
SCHEMAS["RealisationRowErrors"] = {
    "type": "object",
    "description": "De regels kloppen niet; er is niets opgeslagen.",
    "required": ["error", "errors", "error_count"],
    "additionalProperties": False,
    "properties": {
        "error": SCHEMAS["Error"]["properties"]["error"],
        "errors": {"type": "array", "description": "De eerste 1000 fouten.", "items": {
            "type": "object", "required": ["row", "column", "message"], "additionalProperties": False,
            "properties": {"row": {"type": "integer", "minimum": 1, "description": "Regelnummer, vanaf 1."},
                           "column": {"type": "string"}, "message": {"type": "string"}}}},
        "error_count": {"type": "integer", "minimum": 1, "description": "Alle fouten geteld."},
    },
}
PARAMETERS["realisation_state"] = {
    "name": "state", "in": "query", "required": False,
    "description": "Alleen deze status. Zonder deze parameter alle versies behalve de vervangen ('superseded').",
    "schema": {"type": "string", "enum": ["submitted", "approved", "rejected", "superseded"]}}
PARAMETERS["report_id"] = {"name": "report_id", "in": "path", "required": True,
                           "description": "Id van de rapportage(versie).", "schema": {"type": "integer"}}
PATHS["/realisation"] = {
    "get": {
        "operationId": "listRealisation",
        "summary": "Realisatierapportages",
        "description": SCOPE_NOTE.replace("afspraken", "rapportages") + " Nieuwste periode eerst.",
        "parameters": [_param("year"), _param("segment"), _param("realisation_state"), _param("page"),
                       _param("per_page")],
        "responses": {"200": _json("RealisationReportList", "Eén pagina rapportages."),
                      "400": {"$ref": "#/components/responses/400"},
                      "401": {"$ref": "#/components/responses/401"},
                      "403": {"$ref": "#/components/responses/403"}},
    },
    "post": {
        "operationId": "submitRealisation",
        "summary": "Realisatie aanleveren",
        "description": "Alleen met de API-sleutel van een zorgaanbieder. Dezelfde controles als bij een "
                       "bestand; alles of niets. Per gemeente × segment × periode ontstaat een nieuwe versie; "
                       "een eerdere, nog niet goedgekeurde versie wordt vervangen. Een goedgekeurde periode "
                       "staat vast en wordt geweigerd (422). Hoogstens 10.000 regels per verzoek.",
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("RealisationRows")}}},
        "responses": {"201": _json("RealisationSubmitted", "Opgeslagen: de nieuwe rapportages."),
                      "400": _json("Error", "De inhoud is geen object met een niet-lege lijst 'rows' van "
                                            "hoogstens 10.000 objecten."),
                      "401": {"$ref": "#/components/responses/401"},
                      "403": {"$ref": "#/components/responses/403"},
                      "409": _json("Error", "Tijdens het opslaan is een periode goedgekeurd of gewijzigd; "
                                            "niets is opgeslagen."),
                      "422": _json("RealisationRowErrors", "Fouten per regel en kolom; niets is opgeslagen.")},
    },
}
PATHS["/realisation/{report_id}"] = {
    "get": {
        "operationId": "getRealisationReport",
        "summary": "Eén realisatierapportage(versie), met de regels",
        "description": SCOPE_NOTE.replace("afspraken", "rapportages") + " Een id van een andere organisatie geeft 404.",
        "parameters": [_param("report_id")],
        "responses": {"200": _json("RealisationReportDetail", "De rapportage."),
                      "400": {"$ref": "#/components/responses/400"},
                      "401": {"$ref": "#/components/responses/401"},
                      "404": {"$ref": "#/components/responses/404"}},
    },
}

# --- Settlement preview and cost allocation (issue 6) --------------------------------------

SCHEMAS["Error"]["properties"]["error"]["properties"]["agreement"] = {
    "type": "string", "description": "Het id van de overeenkomst in het scenario die niet klopt (of 'nr. 3' "
                                     "als het id zelf ontbreekt); ontbreekt bij een fout buiten de overeenkomsten."}
_SCENARIO_AMOUNT = {"type": "string", "examples": ["1234.56", "1.234,56"],
                    "description": "Bedrag in euro als tekst, hoogstens twee decimalen; geen JSON-getal."}
_SCENARIO_FRACTION = {"type": "string", "examples": ["0.05", "5%"],
                      "description": "Fractie (0.05) of percentage (5%), van 0 tot en met 1."}
_SCENARIO_COUNT = {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string"}],
                   "description": "Aantal: een geheel getal, of een decimaal aantal als tekst."}
SCHEMAS["SettlementScenario"] = {
    "type": "object",
    "description": "Een zelfstandig scenario voor de afrekening: er wordt niets in het portaal opgezocht of "
                   "opgeslagen. Per soort zijn de velden verplicht die de soort gebruikt: budget: budget, "
                   "advances_paid, bandwidth, realisation; population: budget, advances_paid, realisation "
                   "(threshold standaard 10%); ceiling: ceiling, payments_made, realisation; places: places, "
                   "price_per_place_year, occupied_place_days, advances_paid (met het aantal dagen van het jaar). "
                   "Andere velden mogen ontbreken, null of leeg zijn. Onbekende velden worden geweigerd.",
    "required": ["year", "agreements"],
    "additionalProperties": False,
    "properties": {
        "year": {"type": "integer", "minimum": 2000, "maximum": 2100},
        "rules": {"type": "object", "additionalProperties": False, "properties": {
            "outside_band": {"type": "string", "enum": ["full", "excess"], "default": "full",
                             "description": "full: buiten de band volledig op realisatie; excess: alleen het deel "
                                            "voorbij de rand."},
            "band_scope": {"type": "string", "enum": ["municipality", "region"], "default": "municipality",
                           "description": "De band per overeenkomst, of op het regionale totaal van een "
                                          "zorgaanbieder per segment (verdeeld naar aandeel in de realisatie)."}}},
        "agreements": {"type": "array", "minItems": 1, "maxItems": 10000, "items": {
            "type": "object", "required": ["id", "provider", "municipality", "segment", "kind"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "minLength": 1, "description": "Uniek binnen het scenario."},
                "provider": {"type": "string", "minLength": 1},
                "municipality": {"type": "string", "minLength": 1},
                "segment": {"type": "string", "minLength": 1},
                "kind": {"type": "string", "enum": ["budget", "ceiling", "population", "places"]},
                **{name: _nullable(_SCENARIO_AMOUNT) for name in (
                    "budget", "advances_paid", "realisation", "ceiling", "payments_made", "price_per_place_year")},
                "bandwidth": _nullable(_SCENARIO_FRACTION),
                "threshold": _nullable(_SCENARIO_FRACTION),
                "places": _nullable(_SCENARIO_COUNT),
                "occupied_place_days": _nullable(_SCENARIO_COUNT),
            }}},
    },
}
SCHEMAS["SettlementPreview"] = {
    "type": "object",
    "description": "De afrekening van het scenario, met per overeenkomst de uitleg in het Nederlands.",
    "required": ["year", "rules", "agreements", "totals"],
    "additionalProperties": False,
    "properties": {
        "year": {"type": "integer"},
        "rules": {"type": "object", "required": ["outside_band", "band_scope"], "additionalProperties": False,
                  "properties": {"outside_band": {"type": "string", "enum": ["full", "excess"]},
                                 "band_scope": {"type": "string", "enum": ["municipality", "region"]}}},
        "agreements": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "provider", "municipality", "segment", "kind", "settled_value", "paid", "due",
                         "direction", "explanation"],
            "properties": {
                "id": {"type": "string"}, "provider": {"type": "string"}, "municipality": {"type": "string"},
                "segment": {"type": "string"},
                "kind": {"type": "string", "enum": ["budget", "ceiling", "population", "places"]},
                "settled_value": {**AMOUNT, "description": "Afgerekende waarde."},
                "paid": {**AMOUNT, "description": "Al betaalde voorschotten (bij een plafond: al gedane "
                                                  "betalingen)."},
                "due": {**AMOUNT, "description": "Afgerekende waarde − betaald: positief is een nabetaling aan de "
                                                 "zorgaanbieder, negatief een terugbetaling."},
                "direction": {"type": "string", "enum": ["additional_payment", "repayment", "none"]},
                "explanation": {"type": "array", "items": {"type": "string"}},
            }}},
        "totals": {"type": "object", "additionalProperties": False,
                   "required": ["settled_value", "paid", "due", "additional_payments", "repayments"],
                   "properties": {name: AMOUNT for name in (
                       "settled_value", "paid", "due", "additional_payments", "repayments")}},
    },
}
SCHEMAS["CostAllocation"] = {
    "type": "object",
    "description": "Een bedrag verdeeld over de gemeenten van de regio naar de verdeelsleutel inwonertallen: "
                   "aandeel = inwoners ÷ totaal, in procenten half-up op twee decimalen. Methode 'table': per "
                   "gemeente bedrag × aandeel half-up op hele euro's, zoals de gepubliceerde tabel; de delen "
                   "tellen dan niet altijd op tot het bedrag en 'rounding_difference' toont het verschil. "
                   "Methode 'exact': grootste rest op hele euro's, de delen tellen precies op.",
    "required": ["region", "amount", "method", "residents_total", "municipalities", "shares_total", "total",
                 "rounding_difference"],
    "additionalProperties": False,
    "properties": {
        "region": {"type": "object", "required": ["code", "name"], "additionalProperties": False,
                   "properties": {"code": {"type": "string"}, "name": {"type": "string"}}},
        "amount": AMOUNT,
        "method": {"type": "string", "enum": ["table", "exact"]},
        "residents_total": {"type": "integer", "minimum": 1},
        "municipalities": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["name", "municipality_code", "residents", "share_percentage", "amount"],
            "properties": {
                "name": {"type": "string"},
                "municipality_code": _nullable({"type": "string", "pattern": r"^\d{4}$"}),
                "residents": {"type": "integer", "minimum": 0},
                "share_percentage": {**DECIMAL, "description": "Aandeel in procenten, twee decimalen (4.91 is 4,91%)."},
                "amount": {**AMOUNT, "description": "Bijdrage van de gemeente."},
            }}},
        "shares_total": {**DECIMAL, "description": "Som van de afgeronde aandelen in procenten."},
        "total": {**AMOUNT, "description": "Som van de bijdragen."},
        "rounding_difference": {**AMOUNT, "description": "Som van de bijdragen − het bedrag (methode 'exact': 0.00)."},
    },
}
PARAMETERS["allocation_amount"] = {
    "name": "amount", "in": "query", "required": True,
    "description": "Het te verdelen bedrag in euro, 0 of meer, hoogstens twee decimalen (215000 of 215000.00).",
    "schema": {"type": "string", "pattern": r"^\d{1,15}(\.\d{1,2})?$", "examples": ["215000", "215000.00"]}}
PARAMETERS["allocation_method"] = {
    "name": "method", "in": "query", "required": False,
    "description": "table (standaard): zoals de gepubliceerde tabel, met het afrondingsverschil; exact: de delen "
                   "tellen precies op.",
    "schema": {"type": "string", "enum": ["table", "exact"], "default": "table"}}
PATHS["/settlement/preview"] = {
    "post": {
        "operationId": "previewSettlement",
        "summary": "Een afrekening doorrekenen (scenario)",
        "description": "Rekent de jaarlijkse afrekening door voor de overeenkomsten in het scenario: afgerekende "
                       "waarde, nabetaling of terugbetaling, en de uitleg. Er wordt niets opgezocht of opgeslagen, "
                       "dus elke API-sleutel mag dit. Een ongeldig scenario geeft 422 met de overeenkomst in "
                       "'error.agreement' en het veld in 'error.field'.",
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("SettlementScenario")}}},
        "responses": {"200": _json("SettlementPreview", "De doorgerekende afrekening."),
                      "400": _json("Error", "De inhoud is geen geldige JSON."),
                      "401": {"$ref": "#/components/responses/401"},
                      "422": _json("Error", "Het scenario klopt niet; 'agreement' en 'field' noemen de fout.")},
    },
}
PATHS["/cost-allocation"] = {
    "get": {
        "operationId": "allocateCosts",
        "summary": "Regionale kosten verdelen naar inwonertal",
        "description": "Verdeelt het bedrag over de gemeenten van de regio van de API-sleutel naar de verdeelsleutel "
                       "inwonertallen (de inwonertallen in het portaal). Voor gemeenten, contractmanagers en "
                       "accountants; een zorgaanbieder krijgt 403.",
        "parameters": [_param("allocation_amount"), _param("allocation_method")],
        "responses": {"200": _json("CostAllocation", "De verdeling."),
                      "400": {"$ref": "#/components/responses/400"},
                      "401": {"$ref": "#/components/responses/401"},
                      "403": {"$ref": "#/components/responses/403"},
                      "422": _json("Error", "De regio heeft geen gemeenten, of bij een gemeente ontbreekt het "
                                            "inwonertal.")},
    },
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "Aanbiedersportaal sociaal domein — API",
        "version": API_VERSION,
        "description": (
            "Alleen-lezen JSON-API van het aanbiedersportaal. Maak een API-sleutel op de pagina "
            "'API-sleutels' van het portaal (of met `flask --app wsgi token create E-MAIL`) en stuur "
            "hem mee als `Authorization: Bearer <sleutel>`. Cookies worden niet gebruikt. " + SCOPE_NOTE
            + " Bedragen zijn decimale tekenreeksen (\"1234.56\"), datums ISO 8601. Een onbekende "
            "queryparameter geeft 400 (een tikfout blijft niet onopgemerkt). Fouten hebben de vorm "
            "{\"error\": {\"code\": ..., \"message\": ...}}."),
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearerAuth": []}],
    "paths": PATHS,
    "components": {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer",
                           "description": "Een API-sleutel van het portaal (begint met 'pp_')."},
        },
        "schemas": SCHEMAS,
        "parameters": PARAMETERS,
        "responses": RESPONSES,
    },
}


def openapi_document() -> dict:
    """A copy of the document (callers may not change the module's own)."""
    return deepcopy(DOCUMENT)
