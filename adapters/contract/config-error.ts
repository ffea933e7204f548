/**
 * Settings that cannot work. Each issue is `<key>: <problem>`, the key relative to whoever
 * checked it: an adapter names its own keys (`ca: cannot read ...`) because it does not know the
 * tenant's name, and the gateway adds the `tenants.<name>.` prefix when it passes them on; the
 * gateway prints each issue as `config error: <issue>` and exits with code 2.
 *
 * One class for both (src/errors.ts re-exports it), so a store built directly, as tests do,
 * fails with the same error the gateway reports. Prefer a refinement in the adapter's zod
 * schema where a rule needs no I/O and must hold for every use of the settings: it is reported
 * with the other config problems, before any store is created. Throw this from `create()` (or
 * the store's constructor) for what only creating the store can check.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: readonly string[]) {
    super(issues.join('\n'));
  }
}
