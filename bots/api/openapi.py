"""The OpenAPI 3.1 document served at `/api/v1/openapi.json`."""

from __future__ import annotations

from typing import Any

from core.commands import MAX_MESSAGE

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
    "properties": {
        "id": {"type": "integer"},
        "community": {"type": "string"},
        "mode": {"enum": ["one", "count", "all", "everyone"]},
        "count": {"type": "integer"},
        "text": {"type": "string"},
        "link": {"type": ["string", "null"]},
        "state": {"enum": ["open", "fulfilled", "exhausted", "expired", "resolved"]},
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
        "community": {"type": "string", "description": "the handle the token belongs to"},
        "mode": {"enum": ["one", "count", "all", "everyone"], "default": "one"},
        "count": {"type": "integer", "minimum": 1, "maximum": 100, "default": 1},
        "text": {"type": "string", "minLength": 1, "maxLength": MAX_MESSAGE},
        "link": {"type": "string", "format": "uri", "maxLength": 512},
    },
}
_ALERTMANAGER = {
    "type": "object",
    "required": ["status", "groupKey", "alerts"],
    "description": "Alertmanager's webhook body (Grafana's unified alerting sends the same shape)",
    "properties": {
        "status": {"enum": ["firing", "resolved"]},
        "groupKey": {"type": "string"},
        "alerts": {"type": "array", "items": {"type": "object"}},
        "commonLabels": {"type": "object"},
        "commonAnnotations": {"type": "object"},
        "externalURL": {"type": "string"},
    },
}
_GRAFANA = {
    "type": "object",
    "required": ["ruleName", "state"],
    "description": "Grafana's legacy alert webhook body",
    "properties": {
        "ruleName": {"type": "string"},
        "ruleId": {"type": "integer"},
        "state": {"enum": ["alerting", "ok", "no_data"]},
        "message": {"type": "string"},
        "ruleUrl": {"type": "string"},
    },
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
                        "description": "An alert's ask already open, or closed on resolve",
                        "content": {"application/json": {"schema": {"type": "object"}}},
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
