//! A minimal AWS Lambda Runtime API (the 2018-06-01 protocol) on 127.0.0.1, for running the real
//! Lambda binary as a process in tests: it hands out queued events on `GET .../invocation/next`
//! and records what the function posts back.

use std::collections::VecDeque;
use std::io::BufReader;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

use super::http::{Request, read_request, respond};

/// Events waiting for `next`, with their request ids.
type Queue = Arc<Mutex<VecDeque<(String, Vec<u8>)>>>;

/// What the function posted.
#[derive(Debug, Clone, PartialEq)]
pub enum Posted {
    /// `POST /runtime/invocation/{id}/response`.
    Response { id: String, body: serde_json::Value },
    /// `POST /runtime/invocation/{id}/error`.
    Error { id: String, body: serde_json::Value },
    /// `POST /runtime/init/error`.
    InitError { body: serde_json::Value },
}

/// A running Runtime API server.
pub struct RuntimeApi {
    pub addr: SocketAddr,
    queue: Queue,
    pub posted: Receiver<Posted>,
    /// When each `GET .../invocation/next` arrived, in order.
    pub next_arrivals: Arc<Mutex<Vec<Instant>>>,
}

impl RuntimeApi {
    /// Starts the server on a free loopback port.
    pub fn start() -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let queue: Queue = Arc::default();
        let (tx, rx) = channel();
        let next_arrivals: Arc<Mutex<Vec<Instant>>> = Arc::default();
        let (q, arrivals) = (Arc::clone(&queue), Arc::clone(&next_arrivals));
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (q, tx, arrivals) = (Arc::clone(&q), tx.clone(), Arc::clone(&arrivals));
                thread::spawn(move || serve(stream, q, tx, arrivals));
            }
        });
        RuntimeApi {
            addr,
            queue,
            posted: rx,
            next_arrivals,
        }
    }

    /// Events queued and not yet handed out.
    pub fn queued(&self) -> usize {
        self.queue.lock().unwrap().len()
    }

    /// Queues an event under a request id.
    pub fn push(&self, id: &str, event: Vec<u8>) {
        self.queue.lock().unwrap().push_back((id.to_owned(), event));
    }

    /// The environment a Lambda runtime gives a function.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_LAMBDA_RUNTIME_API", self.addr.to_string()),
            ("AWS_LAMBDA_FUNCTION_NAME", "claim-mapper".into()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".into()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "test".into()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                "/aws/lambda/claim-mapper".into(),
            ),
        ]
    }
}

fn serve(
    stream: TcpStream,
    queue: Queue,
    posted: Sender<Posted>,
    arrivals: Arc<Mutex<Vec<Instant>>>,
) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    while let Some(Request { method, path, body }) = read_request(&mut reader) {
        // A body serde_json cannot read (a lone surrogate handed back by shadow mode) is kept as
        // its text.
        let json = || {
            serde_json::from_slice(&body).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(&body).into_owned())
            })
        };
        let written = if method == "GET" && path.ends_with("/runtime/invocation/next") {
            arrivals.lock().unwrap().push(Instant::now());
            let (id, event) = loop {
                if let Some(next) = queue.lock().unwrap().pop_front() {
                    break next;
                }
                thread::sleep(std::time::Duration::from_millis(2));
            };
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 5000;
            let headers = [
                ("Content-Type", "application/json".to_owned()),
                ("Lambda-Runtime-Aws-Request-Id", id),
                ("Lambda-Runtime-Deadline-Ms", deadline.to_string()),
                (
                    "Lambda-Runtime-Invoked-Function-Arn",
                    "arn:aws:lambda:us-east-1:111122223333:function:claim-mapper".to_owned(),
                ),
                (
                    "Lambda-Runtime-Trace-Id",
                    "Root=1-00000000-000000000000000000000000".to_owned(),
                ),
            ];
            respond(&mut writer, "200 OK", &headers, &event)
        } else {
            let segments: Vec<&str> = path.split('/').collect();
            let message = match segments.as_slice() {
                [.., "invocation", id, "response"] => Posted::Response {
                    id: id.to_string(),
                    body: json(),
                },
                [.., "invocation", id, "error"] => Posted::Error {
                    id: id.to_string(),
                    body: json(),
                },
                [.., "init", "error"] => Posted::InitError { body: json() },
                _ => {
                    let _ = respond(&mut writer, "404 Not Found", &[], b"");
                    continue;
                }
            };
            let _ = posted.send(message);
            let json_type = [("Content-Type", "application/json".to_owned())];
            respond(
                &mut writer,
                "202 Accepted",
                &json_type,
                b"{\"status\":\"OK\"}\n",
            )
        };
        if written.is_err() {
            return;
        }
    }
}

/// A memory figure of a process in KB from `/proc/PID/status` (`VmRSS`, `VmHWM`); 0 if absent.
pub fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim_start_matches(':')
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}
