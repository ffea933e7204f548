/** JSON logs (pino). Secrets never reach a log call; the redact list is a second line of defence. */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export function createLogger(level: LevelWithSilent, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'popgate' },
      redact: {
        paths: [
          'password',
          'pass',
          'secret',
          'token',
          'accessToken',
          '*.password',
          '*.secret',
          '*.accessToken',
          'secretAccessKey',
          'sessionToken',
          '*.secretAccessKey',
          '*.sessionToken',
          'refreshToken',
          '*.refreshToken',
          'access_token',
          'refresh_token',
          '*.access_token',
          '*.refresh_token',
          'clientSecret',
        ],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
