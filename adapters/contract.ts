/**
 * The adapter contract: the only thing the POP3 core knows about a backend, and the only part of
 * the gateway an adapter may import. It sits at the bottom: it imports nothing from src/ or from
 * an adapter, so the core can load it without loading any backend's client library.
 *  - mailbox: what a POP3 session asks of a store (MailStore, Maildrop and the optional add-ons);
 *  - store-error: how a store says why it failed (the core picks the client's reply from it);
 *  - descriptor: how an adapter plugs in (its settings, auth mode and store factory);
 *  - config-error: settings that cannot work, refused by a schema or by a store's creation;
 *  - size-book: exact sizes the gateway keeps for a store outside the process (Redis);
 *  - token-source: where a store gets an OAuth bearer token for a login.
 */
export * from './contract/config-error.js';
export * from './contract/descriptor.js';
export * from './contract/mailbox.js';
export * from './contract/size-book.js';
export * from './contract/store-error.js';
export * from './contract/token-source.js';
