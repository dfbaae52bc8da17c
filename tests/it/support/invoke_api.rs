//! A Lambda Invoke API in front of a function process, for clients that call Lambda the way AWS
//! services do (the Cognito emulator): `POST /2015-03-31/functions/{name}/invocations` hands the
//! payload to the function through the local Runtime API and answers with what it posted, a
//! function error flagged by `X-Amz-Function-Error: Unhandled` (Lambda API Reference, `Invoke`).

use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use serde_json::Value;

use super::http::{read_request, respond};
use super::lambda::Lambda;
use super::runtime_api::Posted;

/// A running Invoke API with the function behind it.
pub struct InvokeApi {
    /// `http://127.0.0.1:PORT`, the endpoint to give a Lambda client.
    pub endpoint: String,
    /// The function; `None` once stopped.
    lambda: Arc<Mutex<Option<Lambda>>>,
    /// Every payload invoked, in order.
    invoked: Arc<Mutex<Vec<Value>>>,
}

impl InvokeApi {
    /// Serves `lambda` on a free loopback port, one invocation at a time (one instance).
    pub fn start(lambda: Lambda) -> InvokeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let lambda = Arc::new(Mutex::new(Some(lambda)));
        let invoked: Arc<Mutex<Vec<Value>>> = Arc::default();
        let (function, payloads) = (Arc::clone(&lambda), Arc::clone(&invoked));
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (function, payloads) = (Arc::clone(&function), Arc::clone(&payloads));
                thread::spawn(move || serve(stream, &function, &payloads));
            }
        });
        InvokeApi {
            endpoint,
            lambda,
            invoked,
        }
    }

    /// The payloads invoked so far.
    pub fn invoked(&self) -> Vec<Value> {
        self.invoked.lock().unwrap().clone()
    }

    /// Stops the function and returns its logs.
    pub fn stop(self) -> String {
        let lambda = self.lambda.lock().unwrap().take();
        lambda.map(Lambda::stop).unwrap_or_default()
    }
}

fn serve(stream: TcpStream, lambda: &Mutex<Option<Lambda>>, invoked: &Mutex<Vec<Value>>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let is_invoke = request.method == "POST"
            && request.path.starts_with("/2015-03-31/functions/")
            && request.path.ends_with("/invocations");
        let written = if !is_invoke {
            respond(&mut writer, "404 Not Found", &[], b"")
        } else {
            if let Ok(payload) = serde_json::from_slice(&request.body) {
                invoked.lock().unwrap().push(payload);
            }
            let posted = match lambda.lock().unwrap().as_mut() {
                Some(function) => function.invoke_bytes(request.body),
                None => return,
            };
            let json_type = ("Content-Type", "application/json".to_owned());
            match posted {
                Posted::Response { body, .. } => respond(
                    &mut writer,
                    "200 OK",
                    &[json_type],
                    &serde_json::to_vec(&body).unwrap(),
                ),
                Posted::Error { body, .. } | Posted::InitError { body } => respond(
                    &mut writer,
                    "200 OK",
                    &[json_type, ("X-Amz-Function-Error", "Unhandled".to_owned())],
                    &serde_json::to_vec(&body).unwrap(),
                ),
            }
        };
        if written.is_err() {
            return;
        }
    }
}
