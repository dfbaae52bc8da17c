//! A small API that reads the claims the trigger adds: `GET /orders` is for adults only, decided
//! from the `birthdate` claim of a validated Cognito access token (see `examples/consumer/`).
//!
//! Run: `cargo run --example consumer_api` (listens on 127.0.0.1:8080; settings from
//! `CONSUMER_ISSUER`, `CONSUMER_CLIENT_ID`, `CONSUMER_PUBLIC_KEY` — a PEM file).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde::Deserialize;
use time::{Date, OffsetDateTime};

/// The access-token claims this API reads: Cognito's own plus those the mapping adds.
#[derive(Debug, Deserialize)]
struct AccessClaims {
    token_use: String,
    client_id: String,
    /// Added by the trigger (`mappings/default.yaml`, rule 1).
    birthdate: Option<String>,
    /// Added by the trigger; shown in the response.
    tenant: Option<String>,
}

/// How tokens are validated.
struct Verifier {
    key: DecodingKey,
    validation: Validation,
    client_id: String,
}

impl Verifier {
    fn new(
        public_key_pem: &[u8],
        issuer: &str,
        client_id: &str,
    ) -> Result<Self, jsonwebtoken::errors::Error> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer]);
        // Cognito access tokens carry `client_id`, not `aud`.
        validation.validate_aud = false;
        Ok(Verifier {
            key: DecodingKey::from_rsa_pem(public_key_pem)?,
            validation,
            client_id: client_id.to_owned(),
        })
    }

    /// The authorization decision for a bearer token, as of `today`.
    fn authorize(&self, token: &str, today: Date) -> Result<AccessClaims, StatusCode> {
        let claims = decode::<AccessClaims>(token, &self.key, &self.validation)
            .map_err(|_| StatusCode::UNAUTHORIZED)?
            .claims;
        if claims.token_use != "access" || claims.client_id != self.client_id {
            return Err(StatusCode::UNAUTHORIZED);
        }
        let born = claims
            .birthdate
            .as_deref()
            .and_then(|b| {
                Date::parse(b, time::macros::format_description!("[year]-[month]-[day]")).ok()
            })
            .ok_or(StatusCode::FORBIDDEN)?;
        let adult = born
            .replace_year(born.year() + 18)
            .is_ok_and(|d| d <= today);
        if adult {
            Ok(claims)
        } else {
            Err(StatusCode::FORBIDDEN)
        }
    }
}

async fn orders(
    State(verifier): State<Arc<Verifier>>,
    headers: HeaderMap,
) -> Result<String, StatusCode> {
    let token = headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let claims = verifier.authorize(token, OffsetDateTime::now_utc().date())?;
    Ok(format!(
        "orders of tenant {}\n",
        claims.tenant.as_deref().unwrap_or("-")
    ))
}

fn app(verifier: Verifier) -> Router {
    Router::new()
        .route("/orders", get(orders))
        .with_state(Arc::new(verifier))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    let key = std::fs::read(var(
        "CONSUMER_PUBLIC_KEY",
        "examples/consumer/test-signing-key.pub.pem",
    ))?;
    let verifier = Verifier::new(
        &key,
        &var(
            "CONSUMER_ISSUER",
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Zx98Yw76V",
        ),
        &var("CONSUMER_CLIENT_ID", "1h2j3k4l5m6n7o8p9q0r1s2t3u"),
    )?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    axum::serve(listener, app(verifier)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::{Value, json};
    use tower::ServiceExt;

    const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Zx98Yw76V";
    const CLIENT: &str = "1h2j3k4l5m6n7o8p9q0r1s2t3u";
    const TODAY: Date = time::macros::date!(2026 - 11 - 26);

    fn verifier() -> Verifier {
        Verifier::new(
            include_bytes!("consumer/test-signing-key.pub.pem"),
            ISSUER,
            CLIENT,
        )
        .unwrap()
    }

    /// The access-token claims the trigger adds to `event` (the dry-run's own code path), on top
    /// of the claims Cognito issues itself.
    fn access_token_for(event: &str, birthdate: Option<&str>) -> String {
        let mapping = claim_mapper::load::load_file("mappings/default.yaml".as_ref())
            .unwrap()
            .mapping;
        let mut event: Value = serde_json::from_slice(
            &std::fs::read(format!("examples/events/{event}.json")).unwrap(),
        )
        .unwrap();
        match birthdate {
            Some(b) => event["request"]["userAttributes"]["birthdate"] = json!(b),
            None => {
                event["request"]["userAttributes"]
                    .as_object_mut()
                    .unwrap()
                    .remove("birthdate");
            }
        }
        let out = claim_mapper::engine::apply(&mapping, &event, TODAY, &mut ())
            .and_then(claim_mapper::engine::Reply::into_owned)
            .unwrap()
            .event;
        let added = &out["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]["claimsToAddOrOverride"];
        let mut claims = json!({
            "sub": "a1b2c3d4-5678-90ab-cdef-111122223333", "iss": ISSUER, "client_id": CLIENT,
            "token_use": "access", "scope": "aws.cognito.signin.user.admin", "username": "jdoe",
            "exp": OffsetDateTime::now_utc().unix_timestamp() + 3600,
        });
        claims
            .as_object_mut()
            .unwrap()
            .extend(added.as_object().unwrap().clone());
        let key =
            EncodingKey::from_rsa_pem(include_bytes!("consumer/test-signing-key.pem")).unwrap();
        encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap()
    }

    #[test]
    fn adults_pass_minors_and_missing_birthdates_do_not() {
        let v = verifier();
        let event = "v2-authentication-custom-attrs-groups";
        let adult = v
            .authorize(&access_token_for(event, Some("1990-04-23")), TODAY)
            .unwrap();
        assert_eq!(adult.tenant.as_deref(), Some("tenant-42"));
        let minor = access_token_for(event, Some("2010-01-01"));
        assert_eq!(
            v.authorize(&minor, TODAY).unwrap_err(),
            StatusCode::FORBIDDEN
        );
        let none = access_token_for(event, None);
        assert_eq!(
            v.authorize(&none, TODAY).unwrap_err(),
            StatusCode::FORBIDDEN
        );
        let born_18_years_ago_today = access_token_for(event, Some("2008-11-26"));
        assert!(v.authorize(&born_18_years_ago_today, TODAY).is_ok());
    }

    #[test]
    fn tokens_that_do_not_validate_are_refused() {
        let v = verifier();
        let token = access_token_for("v2-authentication-custom-attrs-groups", Some("1990-04-23"));
        let mut tampered = token.clone();
        tampered.insert(token.rfind('.').unwrap() + 5, 'x');
        assert_eq!(
            v.authorize(&tampered, TODAY).unwrap_err(),
            StatusCode::UNAUTHORIZED
        );
        let other_issuer = Verifier::new(
            include_bytes!("consumer/test-signing-key.pub.pem"),
            "https://elsewhere",
            CLIENT,
        )
        .unwrap();
        assert_eq!(
            other_issuer.authorize(&token, TODAY).unwrap_err(),
            StatusCode::UNAUTHORIZED
        );
        let other_client = Verifier::new(
            include_bytes!("consumer/test-signing-key.pub.pem"),
            ISSUER,
            "someone-else",
        )
        .unwrap();
        assert_eq!(
            other_client.authorize(&token, TODAY).unwrap_err(),
            StatusCode::UNAUTHORIZED
        );
    }

    #[tokio::test]
    async fn the_http_route_answers_with_the_decision() {
        let token = access_token_for("v2-refresh-tokens", Some("1990-04-23"));
        let call = |auth: Option<String>| {
            let mut request = Request::get("/orders");
            if let Some(a) = auth {
                request = request.header("authorization", a);
            }
            app(verifier()).oneshot(request.body(Body::empty()).unwrap())
        };
        let ok = call(Some(format!("Bearer {token}"))).await.unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        let body = axum::body::to_bytes(ok.into_body(), 1024).await.unwrap();
        assert_eq!(&body[..], b"orders of tenant tenant-42\n");
        assert_eq!(call(None).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
}
