//! `/sobjects/{X}…`: describe, create, read, update, delete and upsert by external id.

use http::{Method, StatusCode, header};
use salesforce_core::id::RecordId;
use salesforce_core::wire::SaveResult;
use serde_json::json;

use super::{Call, method_not_allowed};
use crate::error::ApiFailure;
use crate::http::{Reply, form_pairs, param};
use crate::store::{FieldSelection, RecordView, Txn};

/// Routes `/sobjects/{object}/{rest…}`.
pub fn route(
    call: &Call<'_>,
    txn: &mut Txn<'_>,
    object: &str,
    rest: &[&str],
) -> Result<Reply, ApiFailure> {
    let Some((_, def)) = txn.data().schema().object(object) else {
        return Err(ApiFailure::unknown_object(object));
    };
    let name = def.name.clone();
    match (call.method.clone(), rest) {
        (Method::GET, []) => Ok(Reply::json(
            StatusCode::OK,
            &json!({
                "objectDescribe": {
                    "name": def.name, "label": def.label, "keyPrefix": def.key_prefix,
                    "custom": def.custom, "createable": def.createable, "queryable": def.queryable,
                    "urls": {"sobject": format!("{}/sobjects/{}", call.base(), def.name)},
                },
                "recentItems": [],
            }),
        )),
        (Method::POST, []) => create(call, txn, &name),
        (Method::GET, ["describe"]) => {
            let data = txn.data();
            Ok(Reply::json(
                StatusCode::OK,
                &crate::schema::describe::describe(data.schema(), def, call.version),
            ))
        }
        (Method::GET, [id]) => get(call, txn, &name, id),
        (Method::PATCH, [id]) => {
            let body = call.json_object()?;
            txn.update(&name, id, &body)?;
            Ok(Reply::empty(StatusCode::NO_CONTENT))
        }
        (Method::DELETE, [id]) => {
            txn.delete(&name, id)?;
            Ok(Reply::empty(StatusCode::NO_CONTENT))
        }
        (Method::PATCH, [field, value]) => {
            let body = call.json_object()?;
            let (id, created) = txn.upsert(&name, field, value, &body)?;
            let mut result = SaveResult::ok(id.as_str());
            result.created = Some(created);
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(Reply::json(status, &result))
        }
        (Method::GET, [field, value]) => get_by_external_id(call, txn, &name, field, value),
        (_, [] | [_] | [_, _]) => Err(method_not_allowed(call.method)),
        _ => Err(ApiFailure::not_found()),
    }
}

fn create(call: &Call<'_>, txn: &mut Txn<'_>, object: &str) -> Result<Reply, ApiFailure> {
    let body = call.json_object()?;
    let id = txn.insert(object, &body)?;
    Ok(
        Reply::json(StatusCode::CREATED, &SaveResult::ok(id.as_str())).with_header(
            header::LOCATION,
            format!("{}/sobjects/{object}/{id}", call.base()),
        ),
    )
}

fn selected_fields(
    call: &Call<'_>,
    def: &crate::schema::ObjectDef,
) -> Result<Option<Vec<usize>>, ApiFailure> {
    let pairs = form_pairs(call.query);
    let Some(list) = param(&pairs, "fields") else {
        return Ok(None);
    };
    let mut fields = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let idx = def.field_index(name).ok_or_else(|| {
            ApiFailure::bad_request(
                salesforce_core::wire::error_code::INVALID_FIELD,
                format!(
                    "No such column '{name}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
                    def.name
                ),
                vec![],
            )
        })?;
        fields.push(idx);
    }
    Ok(Some(fields))
}

fn get(call: &Call<'_>, txn: &Txn<'_>, object: &str, id: &str) -> Result<Reply, ApiFailure> {
    let data = txn.data();
    let (obj, def, table) = data
        .object(object)
        .ok_or_else(|| ApiFailure::unknown_object(object))?;
    let fields = selected_fields(call, def)?;
    let id = RecordId::parse_lenient(id).map_err(|_| ApiFailure::not_found())?;
    let record = table
        .get(&id)
        .filter(|r| !data.is_deleted(obj, r))
        .ok_or_else(ApiFailure::not_found)?;
    let view = RecordView {
        object: def,
        record,
        fields: fields
            .as_deref()
            .map_or(FieldSelection::All, FieldSelection::Only),
        version: call.version,
    };
    Ok(Reply::json(StatusCode::OK, &view))
}

fn get_by_external_id(
    call: &Call<'_>,
    txn: &Txn<'_>,
    object: &str,
    field: &str,
    value: &str,
) -> Result<Reply, ApiFailure> {
    let data = txn.data();
    let (obj, def, table) = data
        .object(object)
        .ok_or_else(|| ApiFailure::unknown_object(object))?;
    let Some((idx, f)) = def.field(field).filter(|(_, f)| f.external_id) else {
        return Err(ApiFailure::not_found());
    };
    let key = crate::store::convert::to_value(f, &serde_json::Value::String(value.to_owned()))
        .map_err(|_| ApiFailure::not_found())?;
    let rows = table.lookup(idx, &key).unwrap_or(&[]);
    let mut live = rows
        .iter()
        .filter_map(|r| table.row(*r))
        .filter(|r| !data.is_deleted(obj, r));
    let record = live.next().ok_or_else(ApiFailure::not_found)?;
    let fields = selected_fields(call, def)?;
    let view = RecordView {
        object: def,
        record,
        fields: fields
            .as_deref()
            .map_or(FieldSelection::All, FieldSelection::Only),
        version: call.version,
    };
    Ok(Reply::json(StatusCode::OK, &view))
}
