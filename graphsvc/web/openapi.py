"""The OpenAPI 3.1 description of the JSON API, served at /api/openapi.json."""

from __future__ import annotations

from .. import __version__
from ..vocabulary import POPULATIONS, SCHEDULE_SLOTS

_ERROR = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
_DATE = {"type": ["string", "null"], "format": "date"}


def document() -> dict:
    metrics = {
        "type": "object",
        "properties": {
            "point_person": {"type": ["string", "null"]},
            "referrals": {"type": "integer"}, "reached": {"type": "integer"}, "breadth": {"type": "integer"},
            "concentration": {"type": ["number", "null"]}, "effective_breadth": {"type": ["number", "null"]},
            "point_person_share": {"type": ["number", "null"]}, "practice_share": {"type": ["number", "null"]},
            "recent_practice_share": {"type": ["number", "null"]},
            "passes": {"type": "object", "additionalProperties": {"type": "integer"}},
            "passes_total": {"type": "integer"}, "introductions": {"type": "integer"},
            "contacts": {"type": "integer"}, "last_referral": _DATE, "last_contact": _DATE,
            "trend": {"type": "object", "properties": {
                "last_12_months": {"type": "integer"}, "previous_12_months": {"type": "integer"},
                "change": {"type": "integer"}}},
        },
    }
    referrer = {
        "type": "object",
        "required": ["id", "stage", "history", "metrics"],
        "properties": {
            "id": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"},
            "organization": {"type": "string"}, "since": _DATE,
            "stage": {"type": "integer", "enum": [0, 1, 2, 3]},
            "history": {"type": "array", "items": {"type": "object", "properties": {
                "stage": {"type": "integer"}, "date": _DATE, "referral": {"type": "string"}}}},
            "reached": {"type": "object", "additionalProperties": _DATE},
            "point_person_history": {"type": "array", "items": {"type": "object", "properties": {
                "clinician": {"type": "string"}, "since": _DATE, "until": _DATE}}},
            "referrals": {"type": "integer"}, "first_referral": _DATE, "last_referral": _DATE,
            "days_to_stage_2": {"type": ["integer", "null"]}, "days_to_stage_3": {"type": ["integer", "null"]},
            "jumped": {"type": "boolean"}, "stalled": {"type": "boolean"}, "lapsed": {"type": "boolean"},
            "metrics": metrics,
        },
    }
    suggestion = {"type": "object", "properties": {
        "member": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"},
        "score": {"type": "number"}, "accepting_new": {"type": "boolean"},
        "parts": {"type": "object", "properties": {"fit": {"type": "number"}, "trust": {"type": "number"},
                                                   "track": {"type": "number"}}},
        "reasons": {"type": "array", "items": {"type": "string"}}}}
    match_request = {"type": "object", "additionalProperties": False, "properties": {
        "needs": {"type": "array", "items": {"type": "string"}},
        "population": {"type": ["string", "null"], "enum": [*POPULATIONS, None]},
        "insurance": {"type": ["string", "null"]},
        "schedule": {"type": ["string", "null"], "enum": [*SCHEDULE_SLOTS, None]},
        "addressed_to": {"type": ["string", "null"]},
        "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 3}}}
    refresh = {"name": "refresh", "in": "query", "required": False, "schema": {"type": "boolean"},
               "description": "Re-read the graph now instead of using the cached analysis."}
    return {
        "openapi": "3.1.0",
        "info": {"title": "graphsvc", "version": __version__,
                 "description": "Referral-relationship analysis of a group practice."},
        "paths": {
            "/api/referrers/{referrer_id}": {"get": {
                "summary": "A referrer's stage, stage history, pace and metrics",
                "parameters": [{"name": "referrer_id", "in": "path", "required": True,
                                "schema": {"type": "string"}}, refresh],
                "responses": {
                    "200": {"description": "The referrer", "content": {"application/json": {"schema": referrer}}},
                    "404": {"description": "No referrer with that id",
                            "content": {"application/json": {"schema": _ERROR}}},
                }}},
            "/api/referrers/{referrer_id}/suggestions": {"get": {
                "summary": "The next colleagues to introduce to this referrer, with scores and reasons",
                "parameters": [{"name": "referrer_id", "in": "path", "required": True,
                                "schema": {"type": "string"}},
                               {"name": "limit", "in": "query", "required": False,
                                "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 5}},
                               refresh],
                "responses": {
                    "200": {"description": "Ranked suggestions", "content": {"application/json": {
                        "schema": {"type": "object", "properties": {
                            "referrer": {"type": "string"},
                            "suggestions": {"type": "array", "items": suggestion}}}}}},
                    "400": {"description": "Bad limit", "content": {"application/json": {"schema": _ERROR}}},
                    "404": {"description": "No referrer with that id",
                            "content": {"application/json": {"schema": _ERROR}}},
                }}},
            "/api/match": {"post": {
                "summary": "Best clinicians for a new client; a pass suggestion; outside providers",
                "requestBody": {"required": True, "content": {"application/json": {"schema": match_request}}},
                "responses": {
                    "200": {"description": "Candidates, pass suggestion, uncovered needs",
                            "content": {"application/json": {"schema": {"type": "object", "required": [
                                "candidates", "addressed", "pass", "uncovered_needs", "external_providers"]}}}},
                    "400": {"description": "A field is invalid (named in the message)",
                            "content": {"application/json": {"schema": _ERROR}}},
                    "404": {"description": "addressed_to is not a clinician",
                            "content": {"application/json": {"schema": _ERROR}}},
                }}},
            "/api/practice/summary": {"get": {
                "summary": "Stage distribution now and by month; per-clinician sharing and bridges",
                "parameters": [refresh],
                "responses": {"200": {"description": "The summary", "content": {"application/json": {
                    "schema": {"type": "object", "required": ["referrers", "stages", "monthly"]}}}}}}},
        },
    }
