"""An org's metadata and one user's access to it, loaded once and cached per process.

The cache is keyed by ``Org.meta_version``, which every metadata save bumps, so an admin edit
(a field length, a revoked permission, a new validation rule) is seen by the next request.
"""

import threading
from dataclasses import dataclass, field
from functools import cached_property

from sandbox.models import (
    DuplicateRule,
    Field,
    FieldPermission,
    ObjectPermission,
    Org,
    OrgUser,
    Profile,
    QueueMember,
    SharingModel,
    SObject,
    TriggerRule,
    ValidationRule,
)


@dataclass
class FieldMeta:
    """One field's describe properties (org-wide, before field-level security)."""

    name: str
    label: str
    type: str
    length: int
    precision: int
    scale: int
    nillable: bool
    createable: bool
    updateable: bool
    defaulted_on_create: bool
    default_value: object
    calculated: bool
    unique: bool
    external_id: bool
    custom: bool
    restricted_picklist: bool
    picklist_values: list
    reference_to: list
    relationship_name: str
    name_field: bool
    pk: int = 0

    @cached_property
    def values(self) -> set[str]:
        return {entry["value"] for entry in self.picklist_values if entry.get("active", True)}


@dataclass
class ObjectMeta:
    """One object's metadata, fields keyed by lower-case name."""

    name: str
    label: str
    label_plural: str
    key_prefix: str
    custom: bool
    sharing_model: str
    readonly: bool
    pk: int
    fields: dict[str, FieldMeta] = field(default_factory=dict)
    relationships: dict[str, FieldMeta] = field(default_factory=dict)
    validation_rules: list = field(default_factory=list)
    trigger_rules: list = field(default_factory=list)
    duplicate_rules: list = field(default_factory=list)

    def field(self, name: str) -> FieldMeta | None:
        found = self.by_name.get(name)  # most callers give the field's own spelling
        return found if found is not None else self.fields.get(name.lower())

    @cached_property
    def by_name(self) -> dict[str, FieldMeta]:
        """The fields by their exact names (each one ``fields`` holds)."""
        return {f.name: f for f in self.fields.values()}

    @cached_property
    def indexed_ext_field(self) -> str | None:
        """The external-id field copied into ``Record.ext_id`` (the first one, by name)."""
        names = sorted(f.name for f in self.fields.values() if f.external_id)
        return names[0] if names else None

    @cached_property
    def email_field(self) -> str | None:
        """The field copied into ``Record.email``: Email, or a person account's PersonEmail."""
        for name in ("Email", "PersonEmail"):
            if self.field(name):
                return self.field(name).name
        return None

    @property
    def has_owner(self) -> bool:
        return "ownerid" in self.fields

    @cached_property
    def defaults(self) -> list[tuple[str, object]]:
        """(field, value) supplied on create when the client sends nothing."""
        out = []
        for fmeta in self.fields.values():
            if fmeta.type == "boolean":
                out.append((fmeta.name, bool(fmeta.default_value)))
            elif fmeta.default_value is not None:
                out.append((fmeta.name, fmeta.default_value))
        return out

    @cached_property
    def required(self) -> list[str]:
        """Createable, non-nillable, non-defaulted fields."""
        return [
            f.name
            for f in self.fields.values()
            if f.createable and not f.nillable and not f.defaulted_on_create
        ]

    @cached_property
    def unique_fields(self) -> list[FieldMeta]:
        return [f for f in self.fields.values() if f.unique]


@dataclass
class ProfileMeta:
    id: str
    name: str
    view_all_data: bool
    modify_all_data: bool
    edit_converted_leads: bool
    object_perms: dict[str, tuple[bool, bool, bool, bool]] = field(default_factory=dict)
    field_perms: dict[tuple[str, str], tuple[bool, bool]] = field(default_factory=dict)


@dataclass
class Schema:
    org_id: str
    version: int
    objects: dict[str, ObjectMeta]
    by_prefix: dict[str, ObjectMeta]
    profiles: dict[str, ProfileMeta]

    def sobject(self, name: str) -> ObjectMeta | None:
        return self.objects.get(name.lower())


_cache: dict[str, Schema] = {}
_lock = threading.Lock()


def get_schema(org: Org) -> Schema:
    """The org's schema, reloaded when its ``meta_version`` moved."""
    cached = _cache.get(org.pk)
    if cached is not None and cached.version == org.meta_version:
        return cached
    with _lock:
        schema = load_schema(org)
        _cache[org.pk] = schema
        return schema


def _field_meta(row: Field) -> FieldMeta:
    return FieldMeta(
        name=row.name,
        label=row.label,
        type=row.type,
        length=row.length,
        precision=row.precision,
        scale=row.scale,
        nillable=row.nillable,
        createable=row.createable,
        updateable=row.updateable,
        defaulted_on_create=row.defaulted_on_create,
        default_value=row.default_value,
        calculated=row.calculated,
        unique=row.unique,
        external_id=row.external_id,
        custom=row.custom,
        restricted_picklist=row.restricted_picklist,
        picklist_values=row.picklist_values or [],
        reference_to=row.reference_to or [],
        relationship_name=row.relationship_name,
        name_field=row.name_field,
        pk=row.pk,
    )


def load_schema(org: Org) -> Schema:
    """Read every metadata row of the org into a ``Schema``."""
    version = Org.objects.filter(pk=org.pk).values_list("meta_version", flat=True).first() or 0
    objects: dict[str, ObjectMeta] = {}
    by_pk: dict[int, ObjectMeta] = {}
    for row in SObject.objects.filter(org=org):
        meta = ObjectMeta(
            name=row.name,
            label=row.label,
            label_plural=row.label_plural,
            key_prefix=row.key_prefix,
            custom=row.custom,
            sharing_model=row.sharing_model,
            readonly=row.queryable_only,
            pk=row.pk,
        )
        objects[row.name.lower()] = by_pk[row.pk] = meta
    field_names: dict[int, tuple[str, str]] = {}
    for row in Field.objects.filter(sobject__org=org).order_by("id"):
        meta = by_pk[row.sobject_id]
        fmeta = _field_meta(row)
        meta.fields[row.name.lower()] = fmeta
        field_names[row.pk] = (meta.name, row.name)
        if fmeta.relationship_name:
            meta.relationships[fmeta.relationship_name.lower()] = fmeta
    for rule in ValidationRule.objects.filter(sobject__org=org, active=True).order_by("id"):
        by_pk[rule.sobject_id].validation_rules.append(rule)
    for rule in TriggerRule.objects.filter(sobject__org=org, active=True).order_by("id"):
        by_pk[rule.sobject_id].trigger_rules.append(rule)
    for rule in DuplicateRule.objects.filter(sobject__org=org, active=True).order_by("id"):
        by_pk[rule.sobject_id].duplicate_rules.append(rule)
    profiles = _load_profiles(org, by_pk, field_names)
    by_prefix = {meta.key_prefix: meta for meta in objects.values()}
    return Schema(
        org_id=org.pk, version=version, objects=objects, by_prefix=by_prefix, profiles=profiles
    )


def _load_profiles(
    org: Org, by_pk: dict[int, ObjectMeta], field_names: dict[int, tuple[str, str]]
) -> dict[str, ProfileMeta]:
    profiles = {
        p.pk: ProfileMeta(
            id=p.pk,
            name=p.name,
            view_all_data=p.view_all_data,
            modify_all_data=p.modify_all_data,
            edit_converted_leads=p.edit_converted_leads,
        )
        for p in Profile.objects.filter(org=org)
    }
    for perm in ObjectPermission.objects.filter(profile__org=org):
        profiles[perm.profile_id].object_perms[by_pk[perm.sobject_id].name.lower()] = (
            perm.can_read,
            perm.can_create,
            perm.can_edit,
            perm.can_delete,
        )
    for perm in FieldPermission.objects.filter(profile__org=org):
        obj, name = field_names[perm.field_id]
        profiles[perm.profile_id].field_perms[(obj.lower(), name.lower())] = (
            perm.readable,
            perm.editable,
        )
    return profiles


@dataclass
class Actor:
    """The calling user: identity, profile, business unit and the org's schema."""

    user_id: str
    username: str
    org: Org
    schema: Schema
    profile: ProfileMeta
    business_unit: str
    _peer_ids: set[str] | None = None
    _queue_ids: set[str] | None = None
    # Users this request has looked up by id (an ingest job names the same owners on every row).
    users_seen: dict = field(default_factory=dict)
    # Field lookups and field-level security by (object, name): the schema and profile above
    # never change for an actor, and an ingest job asks the same few on every row.
    _visible: dict = field(default_factory=dict)
    _editable: dict = field(default_factory=dict)
    _writable: dict = field(default_factory=dict)

    # -- object and field permissions --------------------------------------------------
    def object_perm(self, obj: ObjectMeta) -> tuple[bool, bool, bool, bool]:
        """(read, create, edit, delete) on an object."""
        perms = self.profile.object_perms.get(obj.name.lower(), (True, True, True, True))
        if obj.readonly:
            return (perms[0], False, False, False)
        return perms

    def can_read_field(self, obj: ObjectMeta, fmeta: FieldMeta) -> bool:
        return self.profile.field_perms.get((obj.name.lower(), fmeta.name.lower()), (True,))[0]

    def can_edit_field(self, obj: ObjectMeta, fmeta: FieldMeta) -> bool:
        key = (obj.name, fmeta.name)
        editable = self._editable.get(key)
        if editable is None:
            perm = self.profile.field_perms.get(
                (obj.name.lower(), fmeta.name.lower()), (True, True)
            )
            editable = self._editable[key] = perm[0] and perm[1]
        return editable

    def readable_fields(self, obj: ObjectMeta) -> list[FieldMeta]:
        return [f for f in obj.fields.values() if self.can_read_field(obj, f)]

    def visible_field(self, obj: ObjectMeta, name: str) -> FieldMeta | None:
        key = (obj.name, name)
        try:
            return self._visible[key]
        except KeyError:
            fmeta = obj.field(name)
            if fmeta is not None and not self.can_read_field(obj, fmeta):
                fmeta = None
            self._visible[key] = fmeta
            return fmeta

    def writable_field(
        self, obj: ObjectMeta, name: str, *, creating: bool
    ) -> tuple[FieldMeta | None, bool]:
        """``visible_field``, and whether the actor may set it on create (or update): the field
        is createable (updateable), not calculated, and editable under field-level security."""
        key = (obj.name, name, creating)
        try:
            return self._writable[key]
        except KeyError:
            fmeta = self.visible_field(obj, name)
            writable = (
                fmeta is not None
                and (fmeta.createable if creating else fmeta.updateable)
                and not fmeta.calculated
                and self.can_edit_field(obj, fmeta)
            )
            self._writable[key] = (fmeta, writable)
            return fmeta, writable

    # -- record sharing ------------------------------------------------------------------
    @property
    def peer_ids(self) -> set[str]:
        """Users in the caller's business unit (whose records it sees under Private)."""
        if self._peer_ids is None:
            self._peer_ids = set(
                OrgUser.objects.filter(
                    org_id=self.org.pk, business_unit=self.business_unit
                ).values_list("id", flat=True)
            )
        return self._peer_ids

    @property
    def queue_ids(self) -> set[str]:
        if self._queue_ids is None:
            self._queue_ids = set(
                QueueMember.objects.filter(user_id=self.user_id).values_list("queue_id", flat=True)
            )
        return self._queue_ids

    def sees_all(self, obj: ObjectMeta) -> bool:
        return (
            self.profile.view_all_data
            or not obj.has_owner
            or obj.sharing_model != SharingModel.PRIVATE
        )

    def visible_owner_ids(self) -> set[str]:
        return self.peer_ids | self.queue_ids | {self.user_id}

    def can_see_record(self, obj: ObjectMeta, owner_id: str) -> bool:
        return self.sees_all(obj) or owner_id in self.visible_owner_ids()

    def can_edit_record(self, obj: ObjectMeta, owner_id: str) -> bool:
        if self.profile.modify_all_data or not obj.has_owner:
            return True
        if obj.sharing_model == SharingModel.READ_WRITE:
            return True
        return owner_id in self.visible_owner_ids()

    def can_see_queue(self, queue_id: str) -> bool:
        return self.profile.view_all_data or queue_id in self.queue_ids


def actor_for(user: OrgUser) -> Actor:
    """The ``Actor`` for an authenticated org user (``user.org`` should be loaded)."""
    schema = get_schema(user.org)
    profile = schema.profiles[user.profile_id]
    return Actor(
        user_id=user.pk,
        username=user.username,
        org=user.org,
        schema=schema,
        profile=profile,
        business_unit=user.business_unit,
    )
