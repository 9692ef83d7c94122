"""Running Civic as a service: private servers for benchmarks and fault tests, the local cluster."""
