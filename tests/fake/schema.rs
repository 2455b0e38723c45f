//! Validation of JSON bodies against X's OpenAPI description
//! (`tests/data/specs/x-api-v2-openapi.json`, a copy of X's own), for the JSON Schema keywords the
//! description uses on request bodies: `$ref`, `type`, `properties`,
//! `required`, `additionalProperties: false`, `enum`, `pattern`,
//! `min/maxItems`, `min/maxLength`, `minimum/maximum`, `anyOf`, `oneOf`.
//! Messages follow X's wording ("$.foo: is not defined in the schema and the
//! schema does not allow additional properties").

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

/// The spec, read once. `X_OPENAPI` overrides its place.
pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = std::env::var_os("X_OPENAPI").map(PathBuf::from).unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/specs/x-api-v2-openapi.json")
        });
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("X's OpenAPI description at {}: {e} (set X_OPENAPI)", path.display()));
        serde_json::from_str(&text).expect("the OpenAPI description is JSON")
    })
}

/// The schema of an operation's JSON request body.
pub fn request_schema(path: &str, method: &str) -> &'static Value {
    let op = &spec()["paths"][path][method];
    let schema = &op["requestBody"]["content"]["application/json"]["schema"];
    assert!(
        !schema.is_null(),
        "no JSON request body for {method} {path} in the spec"
    );
    schema
}

fn resolve(schema: &Value) -> &Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let pointer = r.trim_start_matches('#');
            resolve(spec().pointer(pointer).unwrap_or_else(|| panic!("dangling $ref {r}")))
        }
        None => schema,
    }
}

/// Every violation of `schema` by `value`, empty when it conforms.
pub fn validate(value: &Value, schema: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(value, schema, "$", &mut errors);
    errors
}

fn type_matches(value: &Value, ty: &str) -> bool {
    match ty {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => true,
    }
}

fn check(value: &Value, schema: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(schema);
    if let Some(options) = schema["anyOf"].as_array() {
        if !options.iter().any(|s| validate_at(value, s, at).is_empty()) {
            errors.push(format!("{at}: does not match any of the allowed schemas"));
        }
    }
    if let Some(options) = schema["oneOf"].as_array() {
        let n = options.iter().filter(|s| validate_at(value, s, at).is_empty()).count();
        if n != 1 {
            errors.push(format!("{at}: must match exactly one schema, matches {n}"));
        }
    }
    if let Some(ty) = schema["type"].as_str() {
        if !type_matches(value, ty) {
            errors.push(format!("{at}: {} found, {ty} expected", kind(value)));
            return;
        }
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            errors.push(format!("{at}: does not have a value in the enumeration {allowed:?}"));
        }
    }
    if let Some(s) = value.as_str() {
        if let Some(p) = schema["pattern"].as_str() {
            let re = fancy_regex::Regex::new(p).expect("spec pattern");
            if !re.is_match(s).unwrap_or(false) {
                errors.push(format!("{at}: does not match the regex pattern {p}"));
            }
        }
        let len = s.chars().count() as u64;
        if schema["maxLength"].as_u64().is_some_and(|m| len > m) {
            errors.push(format!("{at}: may only be {} characters long", schema["maxLength"]));
        }
        if schema["minLength"].as_u64().is_some_and(|m| len < m) {
            errors.push(format!(
                "{at}: must be at least {} characters long",
                schema["minLength"]
            ));
        }
    }
    if let Some(n) = value.as_f64() {
        if schema["minimum"].as_f64().is_some_and(|m| n < m) {
            errors.push(format!("{at}: must have a minimum value of {}", schema["minimum"]));
        }
        if schema["maximum"].as_f64().is_some_and(|m| n > m) {
            errors.push(format!("{at}: must have a maximum value of {}", schema["maximum"]));
        }
    }
    if let Some(items) = value.as_array() {
        if schema["minItems"].as_u64().is_some_and(|m| (items.len() as u64) < m) {
            errors.push(format!(
                "{at}: there must be a minimum of {} items in the array",
                schema["minItems"]
            ));
        }
        if schema["maxItems"].as_u64().is_some_and(|m| (items.len() as u64) > m) {
            errors.push(format!(
                "{at}: there must be a maximum of {} items in the array",
                schema["maxItems"]
            ));
        }
        if !schema["items"].is_null() {
            for (i, item) in items.iter().enumerate() {
                check(item, &schema["items"], &format!("{at}[{i}]"), errors);
            }
        }
    }
    if let Some(object) = value.as_object() {
        for name in schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(name) {
                errors.push(format!("{at}.{name}: is missing but it is required"));
            }
        }
        let properties = schema["properties"].as_object();
        for (name, v) in object {
            match properties.and_then(|p| p.get(name)) {
                Some(s) => check(v, s, &format!("{at}.{name}"), errors),
                None if schema["additionalProperties"] == Value::Bool(false) => errors.push(format!(
                    "{at}.{name}: is not defined in the schema and the schema does not allow additional properties"
                )),
                None => {}
            }
        }
    }
}

fn validate_at(value: &Value, schema: &Value, at: &str) -> Vec<String> {
    let mut errors = Vec::new();
    check(value, schema, at, &mut errors);
    errors
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
