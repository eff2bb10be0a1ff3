//! Validates JSON against the schemas our docs publish. The docs promise
//! to use only `type`, `enum`, `minimum`, `required`, `properties`,
//! `additionalProperties` and `items`; this checks exactly those, and
//! refuses a schema that uses anything else so the promise stays true.

use serde_json::Value;

/// The first `json` code block after a `## Schema` heading in a doc.
pub(crate) fn from_doc(markdown: &str) -> Value {
    let section = markdown
        .split("\n## Schema")
        .nth(1)
        .expect("the doc has a `## Schema` section");
    let block = section
        .split("```json\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("the schema section has a json block");
    serde_json::from_str(block).expect("the schema is valid JSON")
}

/// Every way `value` breaks `schema`, as `path: problem` lines.
pub(crate) fn violations(schema: &Value, value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    check(schema, value, "$", &mut found);
    found
}

const KNOWN: &[&str] = &[
    "type",
    "enum",
    "minimum",
    "required",
    "properties",
    "additionalProperties",
    "items",
];

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn check(schema: &Value, value: &Value, path: &str, found: &mut Vec<String>) {
    let schema = schema.as_object().expect("a schema is an object");
    for key in schema.keys() {
        assert!(
            KNOWN.contains(&key.as_str()),
            "unsupported schema keyword `{key}`"
        );
    }
    let actual = type_name(value);
    if let Some(allowed) = schema.get("type") {
        let allowed: Vec<&str> = match allowed {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            other => panic!("bad `type` {other}"),
        };
        let fits =
            allowed.contains(&actual) || (actual == "integer" && allowed.contains(&"number"));
        if !fits {
            found.push(format!("{path}: expected {allowed:?}, found {actual}"));
            return;
        }
    }
    if let Some(Value::Array(options)) = schema.get("enum")
        && !options.contains(value)
    {
        found.push(format!("{path}: {value} is not one of {options:?}"));
    }
    if let (Some(min), Some(n)) = (
        schema.get("minimum").and_then(Value::as_f64),
        value.as_f64(),
    ) && n < min
    {
        found.push(format!("{path}: {n} is below {min}"));
    }
    if let Value::Object(fields) = value {
        object(schema, fields, path, found);
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(item_schema, item, &format!("{path}[{i}]"), found);
        }
    }
}

fn object(
    schema: &serde_json::Map<String, Value>,
    fields: &serde_json::Map<String, Value>,
    path: &str,
    found: &mut Vec<String>,
) {
    let properties = schema.get("properties").and_then(Value::as_object);
    for required in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = required.as_str().expect("required names are strings");
        if !fields.contains_key(name) {
            found.push(format!("{path}: missing `{name}`"));
        }
    }
    for (name, field) in fields {
        match properties.and_then(|p| p.get(name)) {
            Some(sub) => check(sub, field, &format!("{path}.{name}"), found),
            None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                found.push(format!("{path}: unexpected field `{name}`"));
            }
            None => {}
        }
    }
}
