"""Keys the benchmarks run with: production settings (DEBUG off) refuse to start without them."""

BENCH_KEYS = {
    "SECRET_KEY": "bench-only-signing-key-not-a-secret-0123456789",
    "RLS_BINDING_KEY": "bench-only-binding-key-not-a-secret",
    "JWT_SIGNING_KEY": "bench-only-jwt-signing-key-not-a-secret-0123456789",
    "NOTIFICATIONS_LINK_KEYS": "k0=bench-only-link-signing-key",
    "COMMUNITY_HANDLE_KEY": "bench-only-community-handle-key",
    "EVENTS_HASH_KEY": "bench-only-events-hash-key",
    "NOTIFICATIONS_ADDRESS_KEY": "bench-only-address-key",
    "STORAGE_URL_KEYS": "k0=bench-only-storage-url-key",
}
