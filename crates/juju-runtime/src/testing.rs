//! Recording fake hook tools for process-level tests.
