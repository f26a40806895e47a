//! `libhttpqq_testing`: the in-process reference server, for C programs'
//! own tests (and every binding's test `Server`), as a library of its
//! own beside `libhttpqq`, so that a program that only talks to a server
//! carries no server: `httpqq_testing.h`, pkg-config `httpqq-testing`,
//! CMake `httpqq::testing`.
//!
//! It links libhttpqq and reports through its error objects
//! (`httpqq_error_set`): an error object from `httpqq_error_new` works
//! with both, and the thread's last error (`httpqq_last_error_message`)
//! holds this library's failures too. Start a server, give its endpoint
//! to `httpqq_client_new`, and free it when the test is done:
//!
//! ```c
//! #include <httpqq_testing.h>
//!
//! httpqq_error *error = httpqq_error_new();
//! httpqq_server *server = NULL;
//! if (httpqq_server_start(NULL, NULL, &server, error) != HTTPQQ_STATUS_OK) {
//!     fprintf(stderr, "%s\n", httpqq_error_message(error));
//! }
//! httpqq_client *client = NULL;
//! httpqq_client_new(httpqq_server_endpoint(server), &client, error);
//! /* ... the test ... */
//! httpqq_client_free(client);
//! httpqq_server_free(server);
//! httpqq_error_free(error);
//! ```

#![allow(non_camel_case_types)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

mod boundary;
pub mod server;
