//! Authenticity: the org allow-list in both id forms, the path token, the session hook.

use std::sync::Arc;

use webhooks::verify::VerifyFuture;
use webhooks::{
    Error, Limits, OrgAllowList, PathToken, SessionId, SessionVerifier, Verifier, parse,
};

use crate::fixtures::{make_soap, make_soap_for};

#[test]
fn allow_list_accepts_either_form_of_either_form() {
    let by_18 = OrgAllowList::new(["00Do0000000e0vQEAQ"]).unwrap();
    let by_15 = OrgAllowList::new(["00Do0000000e0vQ"]).unwrap();
    for list in [&by_18, &by_15] {
        assert!(list.allows("00Do0000000e0vQEAQ"));
        assert!(list.allows("00Do0000000e0vQ"));
        assert!(!list.allows("00Do0000000e0vq"), "ids are case-sensitive");
        assert!(!list.allows("00Do0000000e0vQEAA"), "wrong checksum");
        assert!(!list.allows("00Do0000000e0vQE"));
        assert!(!list.allows(""));
    }
    let reference = OrgAllowList::new(["001M000000qfPySIAU", "a0RE000000IJmcN"]).unwrap();
    assert!(reference.allows("001M000000qfPyS"));
    assert!(reference.allows("a0RE000000IJmcNMAT"));
    assert!(matches!(
        OrgAllowList::new(["001M000000qfPySIAA"]),
        Err(Error::InvalidValue { .. })
    ));
    assert!(matches!(
        OrgAllowList::new(["short"]),
        Err(Error::InvalidValue { .. })
    ));
}

#[tokio::test]
async fn verifier_checks_org_and_token() {
    let verifier = Verifier::new(
        OrgAllowList::new(["00Do0000000e0vQ"]).unwrap(),
        PathToken::new("t0ken".to_owned()),
    );
    assert!(verifier.check_path_token(Some("t0ken")).is_ok());
    assert!(matches!(
        verifier.check_path_token(Some("t0ke")),
        Err(Error::BadPathToken)
    ));
    assert!(matches!(
        verifier.check_path_token(None),
        Err(Error::BadPathToken)
    ));
    assert!(!format!("{verifier:?}").contains("t0ken"));

    let xml = make_soap(1);
    let message = parse(xml.as_bytes(), &Limits::default()).unwrap();
    verifier.check_message(&message).await.unwrap();
    let other = make_soap_for("00D000000000001", 0, 1);
    let message = parse(other.as_bytes(), &Limits::default()).unwrap();
    assert!(matches!(
        verifier.check_message(&message).await,
        Err(Error::OrganizationNotAllowed(_))
    ));
}

struct RequireSession(&'static str);

impl SessionVerifier for RequireSession {
    fn verify<'a>(
        &'a self,
        _organization_id: &'a str,
        _partner_url: &'a str,
        session_id: Option<&'a SessionId>,
    ) -> VerifyFuture<'a> {
        Box::pin(async move {
            match session_id {
                Some(id) if *id == SessionId::new(self.0.to_owned()) => Ok(()),
                _ => Err(Error::SessionRefused("no live session".to_owned())),
            }
        })
    }
}

#[tokio::test]
async fn session_hook_is_consulted() {
    let verifier = Verifier::without_path_token(OrgAllowList::new(["00Do0000000e0vQ"]).unwrap())
        .with_session_verifier(Arc::new(RequireSession("sess!on")));
    let nil = make_soap(1);
    let message = parse(nil.as_bytes(), &Limits::default()).unwrap();
    assert!(matches!(
        verifier.check_message(&message).await,
        Err(Error::SessionRefused(_))
    ));
    let with = nil.replace(
        r#"<SessionId xsi:nil="true"/>"#,
        "<SessionId>sess!on</SessionId>",
    );
    let message = parse(with.as_bytes(), &Limits::default()).unwrap();
    verifier.check_message(&message).await.unwrap();
}
