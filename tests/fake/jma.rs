//! A fake of JMA's disaster XML feed server: an Atom feed (like
//! `/developer/xml/feed/eqvol.xml`) listing messages served from
//! `tests/data/jma/`. Like the real server it sends `ETag` and
//! `Last-Modified`, answers `304 Not Modified` to a conditional request
//! whose validator still matches, and serves each message as
//! `application/xml`. Faults: answer 500, or a feed that is not XML.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use super::http::{self, Reply, Request, Response};

pub const FEED_PATH: &str = "/developer/xml/feed/eqvol.xml";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    ServerError,
    NotXml,
}

#[derive(Default)]
struct State {
    /// (entry id, title, updated, file)
    entries: Vec<(String, String, String, String)>,
    version: u32,
    requests: Vec<Request>,
    fault: Option<Fault>,
}

pub struct FakeJma {
    state: Arc<Mutex<State>>,
    pub port: u16,
    task: tokio::task::JoinHandle<()>,
}

fn data(file: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/jma")
            .join(file),
    )
    .unwrap_or_else(|e| panic!("tests/data/jma/{file}: {e}"))
}

fn feed_xml(port: u16, entries: &[(String, String, String, String)]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" lang=\"ja\">\n<title>高頻度（地震火山）</title>\n<subtitle>JMAXML publishing feed</subtitle>\n<updated>2026-12-01T01:00:00+09:00</updated>\n<id>urn:uuid:fake-eqvol</id>\n<author><name>気象庁</name></author>\n",
    );
    // Newest first, as JMA lists them.
    for (id, title, updated, file) in entries.iter().rev() {
        out.push_str(&format!(
            "<entry>\n<title>{title}</title>\n<id>{id}</id>\n<updated>{updated}</updated>\n<author><name>気象庁</name></author>\n<link type=\"application/xml\" href=\"http://127.0.0.1:{port}/developer/xml/data/{file}\"/>\n<content type=\"text/plain\">{title}</content>\n</entry>\n"
        ));
    }
    out.push_str("</feed>\n");
    out
}

impl FakeJma {
    pub async fn start() -> FakeJma {
        let state: Arc<Mutex<State>> = Arc::default();
        let port_cell: Arc<Mutex<u16>> = Arc::default();
        let (s, p) = (state.clone(), port_cell.clone());
        let handler: http::Handler = Arc::new(move |req: Request| {
            let mut st = s.lock().unwrap();
            st.requests.push(req.clone());
            if req.method != "GET" {
                return Reply::Send(Response {
                    status: 405,
                    headers: vec![],
                    body: vec![],
                });
            }
            match st.fault {
                Some(Fault::ServerError) => {
                    return Reply::Send(Response {
                        status: 500,
                        headers: vec![],
                        body: b"Internal Server Error".to_vec(),
                    })
                }
                Some(Fault::NotXml) if req.path == FEED_PATH => {
                    return Reply::Send(Response {
                        status: 200,
                        headers: vec![("content-type".into(), "application/atom+xml".into())],
                        body: b"<html><body>maintenance".to_vec(),
                    })
                }
                _ => {}
            }
            if req.path == FEED_PATH {
                let etag = format!("\"eqvol-v{}\"", st.version);
                // One minute per version, in HTTP's date format.
                let modified = format!("Tue, 01 Dec 2026 00:{:02}:00 GMT", st.version % 60);
                let fresh = req.header("if-none-match") == Some(etag.as_str())
                    || (req.header("if-none-match").is_none()
                        && req.header("if-modified-since") == Some(modified.as_str()));
                if fresh {
                    return Reply::Send(Response {
                        status: 304,
                        headers: vec![("etag".into(), etag), ("last-modified".into(), modified)],
                        body: vec![],
                    });
                }
                let port = *p.lock().unwrap();
                return Reply::Send(Response {
                    status: 200,
                    headers: vec![
                        ("content-type".into(), "application/atom+xml; charset=utf-8".into()),
                        ("etag".into(), etag),
                        ("last-modified".into(), modified),
                    ],
                    body: feed_xml(port, &st.entries).into_bytes(),
                });
            }
            if let Some(file) = req.path.strip_prefix("/developer/xml/data/") {
                if st.entries.iter().any(|e| e.3 == file) {
                    return Reply::Send(Response {
                        status: 200,
                        headers: vec![("content-type".into(), "application/xml".into())],
                        body: data(file),
                    });
                }
            }
            Reply::Send(Response {
                status: 404,
                headers: vec![],
                body: b"Not Found".to_vec(),
            })
        });
        let (port, task) = http::serve(handler).await;
        *port_cell.lock().unwrap() = port;
        FakeJma { state, port, task }
    }

    pub fn feed_url(&self) -> String {
        format!("http://127.0.0.1:{}{FEED_PATH}", self.port)
    }

    /// Publishes a message: a new feed entry (the feed's validators change).
    pub fn publish(&self, id: &str, title: &str, updated: &str, file: &str) {
        let mut st = self.state.lock().unwrap();
        st.entries.push((id.into(), title.into(), updated.into(), file.into()));
        st.version += 1;
    }

    pub fn set_fault(&self, fault: Fault) {
        self.state.lock().unwrap().fault = Some(fault).filter(|f| *f != Fault::None);
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Requests for the feed, and how many were answered 304.
    pub fn feed_requests(&self) -> Vec<Request> {
        self.requests().into_iter().filter(|r| r.path == FEED_PATH).collect()
    }
}

impl Drop for FakeJma {
    fn drop(&mut self) {
        self.task.abort();
    }
}
