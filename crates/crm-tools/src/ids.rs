//! Record ids as tool arguments: parsed, and checked against the objects an argument takes by key
//! prefix, with messages that tell the model which argument a misplaced id belongs in.

use salesforce_core::id::{RecordId, object_for_prefix};

use crate::Error;

/// Longest argument text echoed back in an error message.
const ECHO: usize = 40;

fn echo(text: &str) -> String {
    text.chars().take(ECHO).collect()
}

/// Parses a 15- or 18-character id given as argument `arg`.
pub(crate) fn parse(arg: &str, text: &str) -> Result<RecordId, Error> {
    RecordId::parse_lenient(text.trim()).map_err(|_| {
        Error::invalid(format!(
            "`{arg}`: `{}` is not a Salesforce record id (15 or 18 letters and digits, like 00Q5e00000AbCdEFGH)",
            echo(text)
        ))
    })
}

/// What kind of record an id names, for messages (`an Account id (001…)`).
pub(crate) fn describe_kind(id: &RecordId) -> String {
    match id.standard_object() {
        Some(object) => format!(
            "{} {object} id (prefix {})",
            article(object),
            id.key_prefix()
        ),
        None => format!("an id with prefix {}", id.key_prefix()),
    }
}

/// Parses `text` and checks that it names one of `objects`; returns the id and its object.
pub(crate) fn expect(
    arg: &str,
    text: &str,
    objects: &[&'static str],
) -> Result<(RecordId, &'static str), Error> {
    let id = parse(arg, text)?;
    match object_for_prefix(id.key_prefix()) {
        Some(object) if objects.contains(&object) => Ok((id, object)),
        _ => Err(Error::invalid(format!(
            "`{arg}` takes {} id; `{}` is {}",
            expected_list(objects),
            echo(text),
            describe_kind(&id)
        ))),
    }
}

/// `a Lead (00Q) or Contact (003)`.
pub(crate) fn expected_list(objects: &[&str]) -> String {
    let named: Vec<String> = objects
        .iter()
        .map(|o| {
            salesforce_core::id::prefix_for_object(o)
                .map_or_else(|| (*o).to_owned(), |p| format!("{o} ({p})"))
        })
        .collect();
    let joined = match named.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    };
    format!("{} {joined}", objects.first().map_or("a", |o| article(o)))
}

/// `a` or `an`, by the word's first letter.
fn article(word: &str) -> &'static str {
    // "a User": a leading U sounds like "you".
    match word.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o') => "an",
        _ => "a",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_by_prefix() {
        let opp = RecordId::mint("006", 7);
        let (id, object) = expect("id", opp.as_str(), &["Opportunity"]).unwrap();
        assert_eq!((id, object), (opp, "Opportunity"));
        let account = RecordId::mint("001", 7);
        let e = expect("id", account.as_str(), &["Opportunity"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "`id` takes an Opportunity (006) id; `{}` is an Account id (prefix 001)",
                account.as_str()
            )
        );
        let e = expect("whoId", "' OR Id != null", &["Lead", "Contact"]).unwrap_err();
        assert!(
            e.to_string().contains("is not a Salesforce record id"),
            "{e}"
        );
        assert_eq!(
            expected_list(&["Account", "Opportunity", "Case"]),
            "an Account (001), Opportunity (006) or Case (500)"
        );
    }
}
