//! The Lambda binary run as a process against the local Runtime API.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::runtime_api::{Posted, RuntimeApi};

/// A running `claim-mapper-lambda` process.
pub struct Lambda {
    api: RuntimeApi,
    child: Child,
    invocations: usize,
    /// stdout and stderr, drained as the function writes them: an undrained pipe fills up and
    /// blocks the function's next log line (and with it the function).
    logs: Vec<std::thread::JoinHandle<String>>,
}

fn drain(mut pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = pipe.read_to_end(&mut text);
        String::from_utf8_lossy(&text).into_owned()
    })
}

/// The file-only function binary.
pub const FILE_ONLY: &str = env!("CARGO_BIN_EXE_claim-mapper-lambda-file");

/// The function binary that reads SSM as well as files.
#[cfg(feature = "ssm")]
pub const FULL: &str = env!("CARGO_BIN_EXE_claim-mapper-lambda");

/// Every function binary this build has.
pub fn binaries() -> Vec<&'static str> {
    vec![
        FILE_ONLY,
        #[cfg(feature = "ssm")]
        FULL,
    ]
}

/// The zip of `binary`, unpacked into a fresh task root; returns (root, bootstrap path).
pub fn unpack(binary: &str) -> (tempfile::TempDir, String) {
    let dir = std::env::var("CLAIM_MAPPER_TEST_LAMBDA_DIR").expect(
        "CLAIM_MAPPER_TEST_LAMBDA_DIR is not set: run the tests with scripts/test, which builds the zips",
    );
    let zip = PathBuf::from(dir).join(binary).join("bootstrap.zip");
    let root = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("unzip")
        .args([
            "-q",
            zip.to_str().unwrap(),
            "-d",
            root.path().to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(status.success(), "unzip {}", zip.display());
    let bootstrap = root.path().join("bootstrap").to_str().unwrap().to_owned();
    (root, bootstrap)
}

impl Lambda {
    /// Starts the most capable function binary with `env` added to the Runtime API's variables.
    /// Mapping paths resolve against the repository (as `LAMBDA_TASK_ROOT`); logs are at debug level.
    pub fn start(env: &[(&str, String)]) -> Lambda {
        Lambda::start_bin(binaries().last().unwrap(), env)
    }

    /// Starts `binary` (see [`binaries`]).
    pub fn start_bin(binary: &str, env: &[(&str, String)]) -> Lambda {
        let api = RuntimeApi::start();
        let child = Command::new(binary)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(api.env())
            .env("LAMBDA_TASK_ROOT", super::root())
            .env("AWS_LAMBDA_LOG_LEVEL", "debug")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the Lambda binary");
        let mut child = child;
        let logs = vec![
            drain(child.stdout.take().unwrap()),
            drain(child.stderr.take().unwrap()),
        ];
        Lambda {
            api,
            child,
            invocations: 0,
            logs,
        }
    }

    /// Sends raw bytes as an event and returns what the function posted.
    pub fn invoke_bytes(&mut self, event: Vec<u8>) -> Posted {
        self.invocations += 1;
        self.api.push(&format!("req-{}", self.invocations), event);
        match self.api.posted.recv_timeout(Duration::from_secs(30)) {
            Ok(posted) => posted,
            Err(_) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let logs: String = self
                    .logs
                    .drain(..)
                    .map(|h| h.join().unwrap_or_default())
                    .collect();
                panic!("the function did not answer in 30 s; its logs:\n{logs}")
            }
        }
    }

    /// Sends an event; returns the response body, panicking on an invocation error.
    pub fn invoke(&mut self, event: &Value) -> Value {
        match self.invoke_bytes(serde_json::to_vec(event).unwrap()) {
            Posted::Response { body, .. } => body,
            other => panic!("expected a response, got {other:?}"),
        }
    }

    /// A field of the process's `/proc/PID/status` in KB (`VmRSS`, `VmHWM`).
    pub fn memory_kb(&self, field: &str) -> u64 {
        super::runtime_api::status_kb(self.child.id(), field)
    }

    /// Stops the function and returns its logs (stdout and stderr).
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        self.wait().1
    }

    /// Waits for the process to exit by itself (an init failure) and returns status and logs.
    pub fn wait(self) -> (ExitStatus, String) {
        let (status, logs, _) = self.wait_posted();
        (status, logs)
    }

    /// [`Lambda::wait`], with what the function posted to the Runtime API.
    pub fn wait_posted(mut self) -> (ExitStatus, String, Vec<Posted>) {
        let status = self.child.wait().unwrap();
        let logs = self
            .logs
            .drain(..)
            .map(|h| h.join().unwrap_or_default())
            .collect();
        (status, logs, self.api.posted.try_iter().collect())
    }
}
