//! How `mqpub`, `mqsub` and `mqbench` reach a server. So far: where the server is, from
//! mosquitto's `-L` URL ([`parse_url`]).

mod url;

pub use url::{parse_url, Endpoint, ParsedUrl, Scheme, UrlError, DEFAULT_WS_PATH};
