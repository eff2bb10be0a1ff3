//! A tiny JSON Schema validator for the subset `docs/plan.schema.json` uses:
//! `type` (one or several), `const`, `enum`, `minimum`, `properties`,
//! `required`, `additionalProperties: false`, `items`, `oneOf` and local
//! `$ref`s (`#/$defs/name`). Any other keyword fails loudly, so the schema
//! cannot drift into parts this checker would silently ignore.

use serde_json::Value;

const KNOWN: &[&str] = &[
    "$schema",
    "$id",
    "$defs",
    "title",
    "description",
    "type",
    "const",
    "enum",
    "minimum",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "oneOf",
    "$ref",
];

/// Every violation of `schema` by `value`, as `path: problem`.
pub(crate) fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, schema, value, "$", &mut errors);
    errors
}

fn check(root: &Value, schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(rules) = schema.as_object() else {
        errors.push(format!("{path}: schema is not an object"));
        return;
    };
    for key in rules.keys() {
        assert!(
            KNOWN.contains(&key.as_str()),
            "schema keyword `{key}` is not supported"
        );
    }
    if let Some(reference) = rules.get("$ref").and_then(Value::as_str) {
        let name = reference.strip_prefix("#/$defs/").expect("local $ref");
        check(root, &root["$defs"][name], value, path, errors);
    }
    if let Some(types) = rules.get("type") {
        let allowed: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => panic!("bad `type` at {path}"),
        };
        if !allowed.iter().any(|t| has_type(value, t)) {
            errors.push(format!("{path}: expected {allowed:?}, found {value}"));
            return;
        }
    }
    if let Some(expected) = rules.get("const")
        && expected != value
    {
        errors.push(format!("{path}: expected {expected}, found {value}"));
    }
    if let Some(options) = rules.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        errors.push(format!("{path}: {value} is not one of {options:?}"));
    }
    if let (Some(min), Some(n)) = (rules.get("minimum").and_then(Value::as_f64), value.as_f64())
        && n < min
    {
        errors.push(format!("{path}: {n} is below {min}"));
    }
    if let Some(options) = rules.get("oneOf").and_then(Value::as_array) {
        let passing = options
            .iter()
            .filter(|option| {
                let mut sub = Vec::new();
                check(root, option, value, path, &mut sub);
                sub.is_empty()
            })
            .count();
        if passing != 1 {
            errors.push(format!("{path}: {passing} of oneOf match {value}"));
        }
    }
    if let Some(object) = value.as_object() {
        let properties = rules.get("properties").and_then(Value::as_object);
        for required in rules
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = required.as_str().expect("required names");
            if !object.contains_key(name) {
                errors.push(format!("{path}: missing `{name}`"));
            }
        }
        for (key, item) in object {
            match properties.and_then(|p| p.get(key)) {
                Some(sub) => check(root, sub, item, &format!("{path}.{key}"), errors),
                None if rules.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errors.push(format!("{path}: unexpected `{key}`"));
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(array)) = (rules.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            check(root, items, item, &format!("{path}[{i}]"), errors);
        }
    }
}

fn has_type(value: &Value, name: &str) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_u64() || value.is_i64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => panic!("unknown type `{name}`"),
    }
}

#[test]
fn the_validator_catches_what_it_claims_to() {
    let schema = serde_json::json!({
        "type": "object",
        "required": ["a"],
        "additionalProperties": false,
        "properties": {
            "a": { "oneOf": [{ "type": "null" }, { "$ref": "#/$defs/n" }] },
            "b": { "enum": ["x"] }
        },
        "$defs": { "n": { "type": "integer", "minimum": 1 } }
    });
    assert!(validate(&schema, &serde_json::json!({"a": 3, "b": "x"})).is_empty());
    assert!(validate(&schema, &serde_json::json!({"a": null})).is_empty());
    assert_eq!(validate(&schema, &serde_json::json!({"a": 0})).len(), 1);
    assert_eq!(
        validate(&schema, &serde_json::json!({"b": "y", "c": 1})).len(),
        3
    );
}
