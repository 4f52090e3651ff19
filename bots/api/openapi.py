"""The OpenAPI 3.1 document served at `/api/v1/openapi.json`."""

from __future__ import annotations

from typing import Any

from core.commands import MAX_MESSAGE
from core.domain import RequestState

_ERROR = {
    "description": "Refused; nothing changed",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"type": "string"}},
            }
        }
    },
}
_ASK = {
    "type": "object",
    "required": ["id", "community", "mode", "count", "text", "state", "created_at", "asked"],
    "properties": {
        "id": {"type": "integer"},
        "community": {"type": "string"},
        "mode": {"enum": ["one", "count", "all", "everyone"]},
        "count": {"type": "integer"},
        "text": {"type": "string"},
        "link": {"type": ["string", "null"]},
        "state": {"enum": [s.value for s in RequestState]},
        "step": {"type": "integer"},
        "next_step_at": {"type": ["string", "null"], "format": "date-time"},
        "created_at": {"type": "string", "format": "date-time"},
        "closed_at": {"type": ["string", "null"], "format": "date-time"},
        "asked": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "state": {"type": "string"},
                    "open": {"type": "boolean"},
                    "answered_at": {"type": ["string", "null"]},
                },
            },
        },
        "skipped": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
        "duplicate": {"type": "boolean"},
    },
}
_NEW_ASK = {
    "type": "object",
    "required": ["community", "text"],
    "additionalProperties": False,
    "properties": {
        "community": {
            "type": "string",
            "minLength": 1,
            "description": "the handle the token belongs to (403 for any other)",
        },
        "mode": {"enum": ["one", "count", "all", "everyone"], "default": "one"},
        "count": {
            "type": "integer",
            "minimum": 1,
            "maximum": 100,
            "default": 1,
            "description": "how many to ask; anything but 1 needs mode count",
        },
        "text": {"type": "string", "minLength": 1, "maxLength": MAX_MESSAGE, "pattern": r"\S"},
        "link": {"type": "string", "format": "uri", "maxLength": 512, "pattern": "^https?://"},
    },
    # count other than 1 only with mode count
    "if": {"not": {"required": ["mode"], "properties": {"mode": {"const": "count"}}}},
    "then": {"properties": {"count": {"const": 1}}},
}
_LABELS = {
    "type": "object",
    "description": "label or annotation name to value (strings, as Alertmanager sends)",
}
_URL = {"description": "a link for the ask when it is an http(s) URL; otherwise ignored"}
_ALERTMANAGER = {
    "type": "object",
    "required": ["status", "groupKey", "alerts"],
    "description": "Alertmanager's webhook body (Grafana's unified alerting sends the same shape)",
    "properties": {
        "status": {"enum": ["firing", "resolved"]},
        "groupKey": {"type": "string", "minLength": 1},
        "alerts": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "status": {"type": "string"},
                    "labels": _LABELS,
                    "annotations": _LABELS,
                    "generatorURL": _URL,
                },
            },
        },
        "commonLabels": _LABELS,
        "commonAnnotations": _LABELS,
        "externalURL": _URL,
    },
}
_GRAFANA = {
    "type": "object",
    "required": ["ruleName", "state"],
    "description": "Grafana's legacy alert webhook body",
    "properties": {
        "ruleName": {"type": "string", "minLength": 1},
        "ruleId": {"description": "the alert's identity when given, else ruleName"},
        "state": {"enum": ["alerting", "ok", "no_data"]},
        "message": {"description": "added to the ask's text when given"},
        "ruleUrl": _URL,
    },
    # a body with both `alerts` and `status` is read as Alertmanager's
    "not": {"required": ["alerts", "status"]},
}
_CLOSED_NOTHING = {
    "type": "object",
    "required": ["closed", "note"],
    "properties": {"closed": {"type": "null"}, "note": {"type": "string"}},
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "groupcast asks",
        "version": "1.0.0",
        "description": "Ask whoever is available in a community, from outside chat. Tokens come "
        "from /community token <handle> (owners); asks are made on the token owner's behalf.",
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Ask": _ASK, "NewAsk": _NEW_ASK},
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/asks": {
            "post": {
                "operationId": "createAsk",
                "summary": "Open an ask (or fire/resolve an alert's ask)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "oneOf": [
                                    {"$ref": "#/components/schemas/NewAsk"},
                                    _ALERTMANAGER,
                                    _GRAFANA,
                                ]
                            }
                        }
                    },
                },
                "responses": {
                    "201": {
                        "description": "The ask, as resolved",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Ask"}}
                        },
                    },
                    "200": {
                        "description": "An alert's ask already open (duplicate), closed on "
                        "resolve, or no open ask to close",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/Ask"},
                                        _CLOSED_NOTHING,
                                    ]
                                }
                            }
                        },
                    },
                    "400": _ERROR,
                    "401": _ERROR,
                    "403": _ERROR,
                    "413": _ERROR,
                    "422": _ERROR,
                },
            }
        },
        "/api/v1/asks/{id}": {
            "get": {
                "operationId": "getAsk",
                "summary": "An ask's state",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "responses": {
                    "200": {
                        "description": "The ask",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Ask"}}
                        },
                    },
                    "401": _ERROR,
                    "404": _ERROR,
                },
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "openapi",
                "security": [],
                "responses": {"200": {"description": "This document"}},
            }
        },
    },
}
