//! cognito-local, the Cognito user-pool emulator (npm, pinned and installed by `scripts/setup`),
//! run as a process on a free loopback port with its Pre Token Generation trigger pointed at a
//! Lambda Invoke API. `scripts/test` names its start script in `CLAIM_MAPPER_TEST_COGNITO_LOCAL`.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The function name the emulator invokes; any name reaches the one function behind the bridge.
pub const FUNCTION_NAME: &str = "claim-mapper";

/// A running emulator.
pub struct CognitoLocal {
    /// `http://127.0.0.1:PORT`: the Cognito API, and the issuer domain of its tokens.
    pub endpoint: String,
    child: Child,
    agent: ureq::Agent,
    /// Its working directory, holding `.cognito/config.json` and its database.
    _dir: tempfile::TempDir,
}

/// A Cognito API error: the `__type` (e.g. `UserLambdaValidationException`) and message.
#[derive(Debug)]
pub struct ApiError {
    pub kind: String,
    pub message: String,
}

impl CognitoLocal {
    /// Starts the emulator with its Pre Token Generation trigger invoking `lambda_endpoint`.
    pub fn start(lambda_endpoint: &str) -> CognitoLocal {
        let script = std::env::var("CLAIM_MAPPER_TEST_COGNITO_LOCAL").expect(
            "CLAIM_MAPPER_TEST_COGNITO_LOCAL is not set: run the tests with scripts/test, which installs cognito-local",
        );
        let dir = tempfile::tempdir().unwrap();
        let config = json!({
            "LambdaClient": {
                "endpoint": lambda_endpoint,
                "region": "local",
                "credentials": { "accessKeyId": "local", "secretAccessKey": "local" }
            },
            "TriggerFunctions": { "PreTokenGeneration": FUNCTION_NAME }
        });
        std::fs::create_dir(dir.path().join(".cognito")).unwrap();
        std::fs::write(
            dir.path().join(".cognito/config.json"),
            serde_json::to_vec(&config).unwrap(),
        )
        .unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(script)
            .current_dir(dir.path())
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start cognito-local");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("cognito-local exited at start: {status}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "cognito-local did not listen on port {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        CognitoLocal {
            endpoint: format!("http://127.0.0.1:{port}"),
            child,
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into(),
            _dir: dir,
        }
    }

    /// Calls a Cognito API action (JSON 1.1 protocol, `X-Amz-Target`).
    pub fn call(&self, action: &str, request: Value) -> Result<Value, ApiError> {
        let mut response = self
            .agent
            .post(&self.endpoint)
            .header("Content-Type", "application/x-amz-json-1.1")
            .header(
                "X-Amz-Target",
                format!("AWSCognitoIdentityProviderService.{action}"),
            )
            .send(request.to_string())
            .unwrap_or_else(|e| panic!("{action}: {e}"));
        let ok = response.status().is_success();
        let text = response.body_mut().read_to_string().unwrap();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if ok {
            Ok(body)
        } else {
            Err(ApiError {
                kind: body["__type"].as_str().unwrap_or_default().to_owned(),
                message: body["message"].as_str().unwrap_or(&text).to_owned(),
            })
        }
    }

    /// [`CognitoLocal::call`] that must succeed.
    pub fn must(&self, action: &str, request: Value) -> Value {
        self.call(action, request)
            .unwrap_or_else(|e| panic!("{action} failed: {e:?}"))
    }

    /// The pool's signing keys (`/{pool}/.well-known/jwks.json`).
    pub fn jwks(&self, pool: &str) -> Value {
        let text = self
            .agent
            .get(format!("{}/{pool}/.well-known/jwks.json", self.endpoint))
            .call()
            .expect("GET jwks.json")
            .body_mut()
            .read_to_string()
            .unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

impl Drop for CognitoLocal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
