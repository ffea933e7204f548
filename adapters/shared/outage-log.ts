/**
 * A dependency that fails (Redis, a state file) is logged once per outage: an error line at the
 * first failure, nothing while it goes on failing (every login would otherwise add one), and an
 * info line when it works again.
 */
import type { Logger } from 'pino';

export class OutageLog {
  private down = false;

  constructor(
    private readonly logger: Logger,
    /** What fails and what that costs, e.g. `redis: unreachable: sizes are measured`. */
    private readonly failing: string,
    private readonly recovered: string,
  ) {}

  get isDown(): boolean {
    return this.down;
  }

  failed(err: unknown, fields: Record<string, unknown> = {}): void {
    if (this.down) return;
    this.down = true;
    this.logger.error({ ...fields, err: err instanceof Error ? err.message : String(err) }, this.failing);
  }

  working(fields: Record<string, unknown> = {}): void {
    if (!this.down) return;
    this.down = false;
    this.logger.info(fields, this.recovered);
  }
}
