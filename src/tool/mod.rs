//! One runner per binary: resolved arguments in, the library does the work, a result out. Output
//! goes to an `impl Write`, so tests can run the tools without a process.

pub mod mqbroker;
