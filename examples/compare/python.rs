//! Python's `multiprocessing.Pool`, driven through `examples/compare/python_pool.py --serve`: one
//! request per line, one reply of numbers per line, every figure timed in Python around the call.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// The script, committed next to the runner.
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/compare/python_pool.py");

/// A running `python_pool.py --serve`.
pub struct Python {
    child: Child,
    requests: ChildStdin,
    replies: BufReader<ChildStdout>,
}

impl Python {
    /// Starts the script with `python3`, or says why it could not (no `python3` on `PATH`, or
    /// the script failed to start): the runner then goes on without Python.
    pub fn start() -> Result<Python, String> {
        let mut child = Command::new("python3")
            .arg(SCRIPT)
            .arg("--serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|error| format!("python3 could not be started ({error})"))?;
        let requests = child.stdin.take().expect("piped stdin");
        let replies = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut python = Python { child, requests, replies };
        match python.line()? {
            ready if ready == "ready" => Ok(python),
            other => Err(format!("{SCRIPT} said {other:?} instead of ready")),
        }
    }

    fn line(&mut self) -> Result<String, String> {
        let mut line = String::new();
        match self.replies.read_line(&mut line) {
            Ok(0) => Err(format!("{SCRIPT} exited")),
            Ok(_) => Ok(line.trim().to_string()),
            Err(error) => Err(format!("reading from {SCRIPT}: {error}")),
        }
    }

    /// Sends one request and returns the numbers of its reply.
    ///
    /// # Panics
    /// If the script fails or answers with an error: a contender that cannot run would leave a
    /// hole in the paired rounds.
    pub fn ask(&mut self, request: &str) -> Vec<f64> {
        writeln!(self.requests, "{request}").and_then(|()| self.requests.flush()).expect("write to python3");
        let reply = self.line().expect("a reply from python3");
        reply
            .split_whitespace()
            .map(|number| number.parse().unwrap_or_else(|_| panic!("python3 answered {request:?} with {reply:?}")))
            .collect()
    }
}

impl Drop for Python {
    fn drop(&mut self) {
        let _ = writeln!(self.requests);
        let _ = self.requests.flush();
        let _ = self.child.wait();
    }
}
