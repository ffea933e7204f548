/** The token source interface lives in the contract (the gateway hands adapters one); re-exported for the adapters' imports. */
export type { TokenSource } from '../contract.js';
