//! One-line renderings of outputs and events, for exact tests and golden scripts.
