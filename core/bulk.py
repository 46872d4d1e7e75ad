"""Building many unsaved model instances fast: ``clone`` copies one built once.

``Model.__init__`` walks every field, sets defaults and sends two signals: ~50 µs for a wide
model, more than the rest of an import's work on a row. A bulk writer that makes thousands of
instances alike except for a few values builds one with the constructor and clones it.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from django.db import models
from django.db.models.base import ModelState


def clone[M: models.Model](template: M, **values: Any) -> M:
    """A new unsaved instance equal to ``template`` (built by the constructor, unsaved) with
    ``values`` set, by attribute name (``prospect_id``, not ``prospect``).

    What two instances must not share is not shared: a JSON value (a dict or list) is copied,
    and a unique field with a default made per object (``uuid4``) gets a new one unless given.
    A related object the template holds is shared, as it would be.
    """
    model = type(template)
    obj = model.__new__(model)
    state = obj.__dict__
    state.update(template.__dict__)
    obj._state = ModelState()
    obj._state.fields_cache = dict(template._state.fields_cache)
    unique, containers = _plan(model)
    for attname in containers:
        if attname not in values:
            value = state.get(attname)
            if isinstance(value, dict | list):
                state[attname] = copy.deepcopy(value) if value else type(value)()
    for attname, default in unique:
        if attname not in values:
            state[attname] = default()
    state.update(values)
    return obj


@cache
def _plan(model: type[models.Model]) -> tuple[list[tuple[str, Any]], list[str]]:
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    unique = [
        (f.attname, f.get_default)
        for f in fields
        if f.unique and f.has_default() and callable(f.default)
    ]
    containers = [f.attname for f in fields if isinstance(f, models.JSONField)]
    return unique, containers
