//! The admin protocol between the CLI and a running daemon. The control
//! socket arrives with the admin issue; until then the CLI reads the store
//! directly when no daemon holds it.
