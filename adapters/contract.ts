/**
 * The adapter contract: the only thing the POP3 core knows about a backend, and the only part of
 * the gateway an adapter may import. It sits at the bottom: it imports nothing from src/ or from
 * an adapter, so the core can load it without loading any backend's client library.
 */
export * from './contract/mailbox.js';
export * from './contract/store-error.js';
