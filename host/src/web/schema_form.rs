//! A plugin's configuration form, generated from its JSON Schema: one field per
//! top-level property (a number, a choice, a text, or JSON for anything nested),
//! read back into the configuration the plugin's schema then checks.

use serde_json::{Map, Value};

/// One field of a configuration form.
pub struct ConfigField {
    /// The property's name.
    pub name: String,
    /// The property's title, or its name.
    pub label: String,
    /// `number`, `text`, `select` or `json` (a textarea).
    pub kind: &'static str,
    /// What the field shows.
    pub value: String,
    /// A select's options (the empty one: not set), and whether each is the value.
    pub options: Vec<(String, bool)>,
    /// The property's description.
    pub hint: String,
    /// What the schema or the plugin says is wrong with it.
    pub error: Option<String>,
}

/// The fields of `schema` showing `config`.
pub fn fields(schema: &Value, config: &Value) -> Vec<ConfigField> {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else { return vec![] };
    properties
        .iter()
        .map(|(name, property)| {
            let current = config.get(name);
            let kind = kind(property);
            let value = match (kind, current) {
                (_, None | Some(Value::Null)) => String::new(),
                (_, Some(Value::String(text))) => text.clone(),
                (_, Some(other)) => other.to_string(),
            };
            let choices = match kind {
                "select" => choices(property),
                _ => vec![],
            };
            let options = choices.into_iter().map(|option| (option.clone(), option == value)).collect();
            let text = |key: &str| property.get(key).and_then(Value::as_str).map(str::to_owned);
            ConfigField {
                name: name.clone(),
                label: text("title").unwrap_or_else(|| name.clone()),
                kind,
                value,
                options,
                hint: text("description").unwrap_or_default(),
                error: None,
            }
        })
        .collect()
}

/// How a property is entered.
fn kind(property: &Value) -> &'static str {
    if property.get("enum").is_some() {
        return "select";
    }
    let types: Vec<&str> = match property.get("type") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    match types.into_iter().find(|t| *t != "null") {
        Some("integer" | "number") => "number",
        Some("boolean") => "select",
        Some("string") => "text",
        _ => "json",
    }
}

/// A choice's options: not set, then the enum's values or true and false.
fn choices(property: &Value) -> Vec<String> {
    let values = match property.get("enum").and_then(Value::as_array) {
        Some(values) => values.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).collect(),
        None => vec!["true".to_owned(), "false".to_owned()],
    };
    std::iter::once(String::new()).chain(values).collect()
}

/// The configuration the fields' submitted `values` (by property name) make: fields
/// left empty are not set; numbers, true and false, and JSON are read as such. A
/// field whose JSON does not read gets its error, and no configuration is made.
pub fn read(fields: &mut [ConfigField], values: &[(String, String)]) -> Option<Value> {
    let mut config = Map::new();
    let mut readable = true;
    for field in fields.iter_mut() {
        let entered = values.iter().find(|(name, _)| *name == field.name).map(|(_, value)| value.trim());
        field.value = entered.unwrap_or_default().to_owned();
        for (option, selected) in &mut field.options {
            *selected = *option == field.value;
        }
        if field.value.is_empty() {
            continue;
        }
        let value = match field.kind {
            "number" | "select" => serde_json::from_str(&field.value).unwrap_or_else(|_| field.value.clone().into()),
            "json" => match serde_json::from_str(&field.value) {
                Ok(value) => value,
                Err(err) => {
                    field.error = Some(format!("is not JSON: {err}"));
                    readable = false;
                    continue;
                }
            },
            _ => field.value.clone().into(),
        };
        config.insert(field.name.clone(), value);
    }
    readable.then_some(Value::Object(config))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_property_gets_a_field_and_reads_back_as_the_schema_types_it() {
        let schema = json!({"properties": {
            "max-tiers": {"type": "integer", "title": "Tiers", "description": "At most"},
            "mode": {"type": "string", "enum": ["per-sale", "re-rate-period"]},
            "strict": {"type": ["boolean", "null"]},
            "note": {"type": "string"},
            "ladder": {"$ref": "#/$defs/Ladder"}
        }});
        let mut fields = fields(&schema, &json!({"max-tiers": 3, "mode": "per-sale", "ladder": {"levels": []}}));
        let shown: Vec<(&str, &str, &str)> =
            fields.iter().map(|f| (f.name.as_str(), f.kind, f.value.as_str())).collect();
        assert_eq!(
            shown,
            [
                ("ladder", "json", r#"{"levels":[]}"#),
                ("max-tiers", "number", "3"),
                ("mode", "select", "per-sale"),
                ("note", "text", ""),
                ("strict", "select", ""),
            ]
        );
        assert_eq!((fields[1].label.as_str(), fields[1].hint.as_str()), ("Tiers", "At most"));
        let entered = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let values = entered(&[("max-tiers", "0"), ("mode", "re-rate-period"), ("strict", "true"), ("note", "")]);
        assert_eq!(read(&mut fields, &values), Some(json!({"max-tiers": 0, "mode": "re-rate-period", "strict": true})));
        assert!(fields[2].options.iter().any(|(option, selected)| option == "re-rate-period" && *selected));
        assert_eq!(read(&mut fields, &entered(&[("ladder", "{oops")])), None);
        assert!(fields[0].error.as_deref().is_some_and(|e| e.starts_with("is not JSON")));
    }
}
