"""describeGlobal, sObject basic info and sObject describe, as seen by the calling user."""

from sandbox.models import Record
from sandbox.query import child_relationship_name
from sandbox.schema import Actor, FieldMeta, ObjectMeta

DB = "sandbox"
MASTER_RECORD_TYPE = "012000000000000AAA"
SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "time": "xsd:time",
    "address": "urn:address",
}


def _urls(version: str, name: str) -> dict:
    base = f"/services/data/v{version}/sobjects/{name}"
    return {
        "compactLayouts": f"{base}/describe/compactLayouts",
        "rowTemplate": f"{base}/{{ID}}",
        "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
        "describe": f"{base}/describe",
        "sobject": base,
    }


def global_entry(actor: Actor, obj: ObjectMeta, version: str) -> dict:
    """One object's entry in describeGlobal (and the top of its describe)."""
    read, create, edit, delete = actor.object_perm(obj)
    return {
        "activateable": False,
        "createable": create,
        "custom": obj.custom,
        "customSetting": False,
        "deepCloneable": False,
        "deletable": delete,
        "deprecatedAndHidden": False,
        "feedEnabled": False,
        "hasSubtypes": False,
        "idEnabled": True,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": obj.key_prefix,
        "label": obj.label,
        "labelPlural": obj.label_plural,
        "layoutable": True,
        "mergeable": obj.name in ("Lead", "Contact", "Account"),
        "mruEnabled": True,
        "name": obj.name,
        "queryable": read,
        "replicateable": True,
        "retrieveable": read,
        "searchable": True,
        "triggerable": True,
        "undeletable": delete,
        "updateable": edit,
        "urls": _urls(version, obj.name),
    }


def describe_global(actor: Actor, version: str) -> dict:
    objects = [o for o in actor.schema.objects.values() if actor.object_perm(o)[0]]
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [
            global_entry(actor, o, version) for o in sorted(objects, key=lambda o: o.name)
        ],
    }


def field_describe(actor: Actor, obj: ObjectMeta, fmeta: FieldMeta) -> dict:
    """One field's describe entry; createable/updateable reflect the caller's FLS."""
    editable = actor.can_edit_field(obj, fmeta)
    string_like = fmeta.type not in SOAP_TYPES
    return {
        "aggregatable": fmeta.type not in ("textarea", "multipicklist"),
        "autoNumber": False,
        "byteLength": fmeta.length * 3 if string_like or fmeta.type in ("id", "reference") else 0,
        "calculated": fmeta.calculated,
        "calculatedFormula": None,
        "cascadeDelete": False,
        "caseSensitive": False,
        "compoundFieldName": None,
        "controllerName": None,
        "createable": fmeta.createable and editable and not fmeta.calculated,
        "custom": fmeta.custom,
        "defaultValue": fmeta.default_value,
        "defaultValueFormula": None,
        "defaultedOnCreate": fmeta.defaulted_on_create,
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": fmeta.precision if fmeta.type == "int" else 0,
        "displayLocationInDecimal": False,
        "encrypted": False,
        "externalId": fmeta.external_id,
        "extraTypeInfo": None,
        "filterable": fmeta.type != "textarea" or fmeta.length <= 255,
        "filteredLookupInfo": None,
        "groupable": fmeta.type not in ("textarea", "double"),
        "highScaleNumber": False,
        "htmlFormatted": False,
        "idLookup": fmeta.name == "Id" or fmeta.external_id or fmeta.name == "Email",
        "inlineHelpText": None,
        "label": fmeta.label,
        "length": fmeta.length if string_like or fmeta.type in ("id", "reference") else 0,
        "mask": None,
        "maskType": None,
        "name": fmeta.name,
        "nameField": fmeta.name_field,
        "namePointing": len(fmeta.reference_to) > 1,
        "nillable": fmeta.nillable,
        "permissionable": fmeta.nillable and not fmeta.calculated,
        "picklistValues": fmeta.picklist_values,
        "polymorphicForeignKey": len(fmeta.reference_to) > 1,
        "precision": fmeta.precision if fmeta.type not in ("int",) else 0,
        "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": fmeta.reference_to,
        "relationshipName": fmeta.relationship_name or None,
        "relationshipOrder": None,
        "restrictedDelete": False,
        "restrictedPicklist": fmeta.restricted_picklist,
        "scale": fmeta.scale,
        "searchPrefilterable": False,
        "soapType": SOAP_TYPES.get(fmeta.type, "xsd:string"),
        "sortable": fmeta.type not in ("textarea", "multipicklist"),
        "type": fmeta.type,
        "unique": fmeta.unique,
        "updateable": fmeta.updateable and editable and not fmeta.calculated,
        "writeRequiresMasterRead": False,
    }


def _child_relationships(actor: Actor, obj: ObjectMeta) -> list[dict]:
    out = []
    for child in actor.schema.objects.values():
        for fmeta in child.fields.values():
            if fmeta.type != "reference" or obj.name not in fmeta.reference_to:
                continue
            out.append(
                {
                    "cascadeDelete": False,
                    "childSObject": child.name,
                    "deprecatedAndHidden": False,
                    "field": fmeta.name,
                    "junctionIdListNames": [],
                    "junctionReferenceTo": [],
                    "relationshipName": child_relationship_name(child, fmeta)
                    if fmeta.name
                    not in ("CreatedById", "LastModifiedById", "OwnerId", "MasterRecordId")
                    else None,
                    "restrictedDelete": False,
                }
            )
    return out


def describe(actor: Actor, obj: ObjectMeta, version: str) -> dict:
    """``GET /sobjects/{Type}/describe``: fields the caller can read, with its access."""
    body = global_entry(actor, obj, version)
    body.update(
        {
            "actionOverrides": [],
            "childRelationships": _child_relationships(actor, obj),
            "compactLayoutable": True,
            "fields": [field_describe(actor, obj, f) for f in actor.readable_fields(obj)],
            "listviewable": None,
            "lookupLayoutable": None,
            "namedLayoutInfos": [],
            "networkScopeFieldName": None,
            "recordTypeInfos": _record_type_infos(actor, obj, version),
            "searchLayoutable": True,
            "supportedScopes": [{"label": "All records", "name": "everything"}],
        }
    )
    return body


def basic_info(actor: Actor, obj: ObjectMeta, version: str) -> dict:
    return {"objectDescribe": global_entry(actor, obj, version), "recentItems": []}


def _record_type_info(obj: ObjectMeta, version: str, data: dict, *, default: bool) -> dict:
    master = data["Id"] == MASTER_RECORD_TYPE
    return {
        "active": True,
        "available": default or not master,
        "defaultRecordTypeMapping": default,
        "developerName": data["DeveloperName"],
        "master": master,
        "name": data["Name"],
        "recordTypeId": data["Id"],
        "urls": {
            "layout": f"/services/data/v{version}/sobjects/{obj.name}/describe/layouts/{data['Id']}"
        },
    }


def _record_type_infos(actor: Actor, obj: ObjectMeta, version: str) -> list[dict]:
    """The object's record types (Account's business and person types), then Master."""
    rows = Record.objects.using(DB).filter(
        org_id=actor.org.pk, sobject="RecordType", is_deleted=False
    )
    types = [d for d in rows.values_list("data", flat=True) if d.get("SobjectType") == obj.name]
    master = {"Id": MASTER_RECORD_TYPE, "DeveloperName": "Master", "Name": "Master"}
    infos = [
        _record_type_info(obj, version, data, default=index == 0)
        for index, data in enumerate(sorted(types, key=lambda d: d.get("IsPersonType", False)))
    ]
    return infos + [_record_type_info(obj, version, master, default=not types)]
